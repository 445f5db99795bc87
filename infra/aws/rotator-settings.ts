/**
 * The rotator's tunables: defaults, and one validator per setting that says what to write instead. Shared by the
 * stack's config (`openclaw:rotator`) and by RotatorDeployment itself, so a team that uses the component in its own
 * program gets the same checks and the same messages.
 */
import { parseDuration } from "../../src/domain/duration";
import { Problem } from "../../src/domain/errors";
import { closest } from "../../src/domain/suggest";
import { heartbeatWindow } from "./run-watch";

export const ROTATOR_DEFAULTS = {
  deploy: false,
  schedule: "rate(1 hour)",
  quietPeriod: "15m",
  suspensionWindow: "1h",
  maxConcurrency: 8,
  logRetentionDays: 30,
  lambdaTimeoutSeconds: 300,
  memorySize: 256,
} as const;

/** `openclaw:rotator` after validation, with defaults filled in. */
export interface RotatorSettings {
  /** Whether the stack deploys the rotator at all. @default false */
  readonly deploy: boolean;
  /** EventBridge Scheduler expression. @default "rate(1 hour)" */
  readonly schedule: string;
  /** How long a retiring token must see no traffic before it is revoked. @default "15m" */
  readonly quietPeriod: string;
  /**
   * How long a drained retiring token stays suspended (refused, but reinstatable) before it is revoked; "0" revokes
   * on the consumer evidence alone. @default "1h"
   */
  readonly suspensionWindow: string;
  /** Tokens rotated in parallel by one run. @default 8 */
  readonly maxConcurrency: number;
  /** Days the rotator's logs are kept. @default 30 */
  readonly logRetentionDays: number;
  /** Where alarm notifications go by email; none if unset. */
  readonly alarmEmail: string | undefined;
  /** X-Ray tracing of the rotator's runs. @default false */
  readonly tracing?: boolean;
  /** The longest normal gap between completed runs (required with a cron schedule). @default two rate intervals */
  readonly heartbeatWindow?: string | undefined;
}

/** The retention periods CloudWatch Logs accepts (0, "never expire", is refused: logs would grow without bound). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const MIN_QUIET_SECONDS = 60;
const MAX_QUIET_SECONDS = 7 * 86400;
export const MAX_CONCURRENCY = 50;

/** Each validator returns undefined for a good value, else what is wrong and what to write instead. */
export const validate = {
  schedule(value: unknown): string | undefined {
    const example = 'write "rate(1 hour)", "rate(30 minutes)" or a cron expression such as "cron(0 * * * ? *)"';
    if (typeof value !== "string") return `${JSON.stringify(value)} is not a schedule expression; ${example}`;
    if (/^at\(/.test(value)) return `${value} runs only once, but the rotator must run on a recurring schedule; ${example}`;
    const rate = /^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$/.exec(value);
    if (rate) {
      const [, count, unit] = rate;
      // EventBridge Scheduler wants the singular unit for 1 and the plural otherwise.
      const singular = unit.replace(/s$/, "");
      const wanted = count === "1" ? singular : `${singular}s`;
      return unit === wanted ? undefined : `write rate(${count} ${wanted}), not ${value}`;
    }
    const cron = /^cron\((.+)\)$/.exec(value);
    if (cron) {
      const fields = cron[1].trim().split(/\s+/);
      return fields.length === 6
        ? undefined
        : `${value} has ${fields.length} fields; EventBridge cron has 6 (minutes hours day-of-month month day-of-week year), e.g. cron(0 * * * ? *)`;
    }
    return `${JSON.stringify(value)} is not a schedule expression; ${example}`;
  },

  quietPeriod(value: unknown): string | undefined {
    const seconds = typeof value === "string" ? parseDuration(value) : undefined;
    if (seconds === undefined) return `${JSON.stringify(value)} is not a duration; write a whole number and a unit, e.g. "15m" or "1h"`;
    if (seconds < MIN_QUIET_SECONDS || seconds > MAX_QUIET_SECONDS) return `${value} is outside 1m..7d; the default is ${ROTATOR_DEFAULTS.quietPeriod}`;
    return undefined;
  },

  suspensionWindow(value: unknown): string | undefined {
    // "0" is the one zero accepted: no suspension, the retiring token is revoked as soon as it is drained.
    if (value === "0") return undefined;
    const seconds = typeof value === "string" ? parseDuration(value) : undefined;
    if (seconds === undefined) return `${JSON.stringify(value)} is not a duration; write a whole number and a unit, e.g. "1h" or "30m", or "0" for no suspension`;
    if (seconds < MIN_QUIET_SECONDS || seconds > MAX_QUIET_SECONDS) return `${value} is outside 1m..7d ("0" disables the suspension); the default is ${ROTATOR_DEFAULTS.suspensionWindow}`;
    return undefined;
  },

  maxConcurrency(value: unknown): string | undefined {
    return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_CONCURRENCY
      ? undefined
      : `${JSON.stringify(value)} is not a whole number from 1 to ${MAX_CONCURRENCY}; the default is ${ROTATOR_DEFAULTS.maxConcurrency}`;
  },

  logRetentionDays(value: unknown): string | undefined {
    return typeof value === "number" && LOG_RETENTION_DAYS.includes(value)
      ? undefined
      : `${JSON.stringify(value)} is not a CloudWatch Logs retention; use one of ${LOG_RETENTION_DAYS.join(", ")} (the default is ${ROTATOR_DEFAULTS.logRetentionDays})`;
  },

  alarmEmail(value: unknown): string | undefined {
    return typeof value === "string" && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)
      ? undefined
      : `${JSON.stringify(value)} is not an email address; write it like oncall@example.com, or leave the key out for no email`;
  },

  lambdaTimeoutSeconds(value: unknown): string | undefined {
    return Number.isInteger(value) && (value as number) >= 30 && (value as number) <= 900
      ? undefined
      : `${JSON.stringify(value)} is not a whole number of seconds from 30 to 900 (Lambda's limit); the default is ${ROTATOR_DEFAULTS.lambdaTimeoutSeconds}`;
  },

  memorySize(value: unknown): string | undefined {
    return Number.isInteger(value) && (value as number) >= 128 && (value as number) <= 10240
      ? undefined
      : `${JSON.stringify(value)} is not a whole number of MB from 128 to 10240 (Lambda's limits); the default is ${ROTATOR_DEFAULTS.memorySize}`;
  },
} as const;

const SETTING_KEYS = ["deploy", "schedule", "quietPeriod", "suspensionWindow", "maxConcurrency", "logRetentionDays", "alarmEmail", "heartbeatWindow", "tracing"] as const;

export type RotatorSettingsOutcome =
  | { readonly ok: true; readonly settings: RotatorSettings }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Validates the raw `openclaw:rotator` object (undefined means "not configured": the defaults, which do not
 * deploy). Every problem is reported at once, each under its own key, e.g. `openclaw:rotator.maxConcurrency`.
 */
export function parseRotatorSettings(raw: unknown, key = "openclaw:rotator"): RotatorSettingsOutcome {
  if (raw === undefined || raw === null) return { ok: true, settings: { ...ROTATOR_DEFAULTS, alarmEmail: undefined } };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [{ field: key, message: `set it to an object such as {deploy: true, schedule: "rate(1 hour)"}; keys: ${SETTING_KEYS.join(", ")}` }],
    };
  }
  const given = raw as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const name of Object.keys(given)) {
    if (!(SETTING_KEYS as readonly string[]).includes(name)) {
      const suggestion = closest(name, SETTING_KEYS);
      problems.push({ field: `${key}.${name}`, message: `${name} is not a rotator setting${suggestion ? `; did you mean ${suggestion}?` : ""} (the settings are ${SETTING_KEYS.join(", ")})` });
    }
  }
  const settings: RotatorSettings = {
    deploy: (given.deploy ?? ROTATOR_DEFAULTS.deploy) as boolean,
    schedule: (given.schedule ?? ROTATOR_DEFAULTS.schedule) as string,
    quietPeriod: (given.quietPeriod ?? ROTATOR_DEFAULTS.quietPeriod) as string,
    suspensionWindow: (given.suspensionWindow ?? ROTATOR_DEFAULTS.suspensionWindow) as string,
    maxConcurrency: (given.maxConcurrency ?? ROTATOR_DEFAULTS.maxConcurrency) as number,
    logRetentionDays: (given.logRetentionDays ?? ROTATOR_DEFAULTS.logRetentionDays) as number,
    alarmEmail: given.alarmEmail as string | undefined,
    heartbeatWindow: given.heartbeatWindow as string | undefined,
    tracing: (given.tracing ?? false) as boolean,
  };
  if (typeof settings.tracing !== "boolean") problems.push({ field: `${key}.tracing`, message: `${JSON.stringify(given.tracing)} is not true or false` });
  if (typeof settings.deploy !== "boolean") problems.push({ field: `${key}.deploy`, message: `${JSON.stringify(given.deploy)} is not true or false` });
  const checks: [keyof typeof validate, unknown][] = [
    ["schedule", settings.schedule],
    ["quietPeriod", settings.quietPeriod],
    ["suspensionWindow", settings.suspensionWindow],
    ["maxConcurrency", settings.maxConcurrency],
    ["logRetentionDays", settings.logRetentionDays],
  ];
  if (settings.alarmEmail !== undefined) checks.push(["alarmEmail", settings.alarmEmail]);
  for (const [name, value] of checks) {
    const message = validate[name](value);
    if (message) problems.push({ field: `${key}.${name}`, message });
  }
  // The heartbeat alarm must be able to watch the schedule (judged once the schedule itself is good).
  if (!validate.schedule(settings.schedule) && (settings.heartbeatWindow === undefined || typeof settings.heartbeatWindow === "string")) {
    const window = heartbeatWindow(settings.schedule, settings.heartbeatWindow);
    if ("problem" in window) problems.push({ field: `${key}.heartbeatWindow`, message: window.problem });
  } else if (settings.heartbeatWindow !== undefined && typeof settings.heartbeatWindow !== "string") {
    problems.push({ field: `${key}.heartbeatWindow`, message: `${JSON.stringify(settings.heartbeatWindow)} is not a duration such as "2h"` });
  }
  return problems.length ? { ok: false, problems } : { ok: true, settings };
}
