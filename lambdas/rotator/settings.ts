import { parseDuration } from "../../src/domain/duration";
import { isEnvironment } from "../../src/domain/environments";
import { Problem, ValidationError } from "../../src/domain/errors";
import { BackendKind } from "../../src/gateway/backend";
import { DEFAULT_EVENT_BUS } from "../../src/rotation/observability";
import { DEFAULT_SETTINGS, RotatorSettings } from "../../src/rotation/settings";

/** What the deployment passes the rotator (RotatorDeployment sets these; no secret is among them). */
export interface RotatorEnvironment {
  readonly settings: RotatorSettings;
  /**
   * The secret holding a gateway admin credential given by the deployment (openclaw-admin/<env>/gateway): OpenClaw's
   * shared token for openclaw-devices. Absent for the documented API, whose rotator uses its own short-lived,
   * self-rotated admin:tokens credential (openclaw-admin/<env>/rotator, checked against the ledger).
   */
  readonly adminSecretId: string | undefined;
  /** The environment's ledger table (the rotation state). */
  readonly ledgerTable: string;
  /** The EventBridge bus rotation events go to (OPENCLAW_EVENT_BUS). @default "default" */
  readonly eventBus: string;
}

/** Reads and checks the rotator's environment variables in one place, naming every one that is missing or bad. */
export function readRotatorEnvironment(env: NodeJS.ProcessEnv): RotatorEnvironment {
  const problems: Problem[] = [];
  const need = (key: string): string => {
    const value = env[key];
    if (!value) problems.push({ field: key, message: "is not set" });
    return value ?? "";
  };
  const duration = (key: string, fallback: number): number => {
    if (!env[key]) return fallback;
    const seconds = parseDuration(env[key] as string);
    if (seconds === undefined) problems.push({ field: key, message: `"${env[key]}" is not a duration like 15m` });
    return (seconds ?? 0) * 1000;
  };
  const environment = need("OPENCLAW_ENVIRONMENT");
  if (environment && !isEnvironment(environment)) problems.push({ field: "OPENCLAW_ENVIRONMENT", message: `"${environment}" is not dev, stage or prod` });
  const backend = env.OPENCLAW_BACKEND || BackendKind.DocumentedApi;
  if (!(Object.values(BackendKind) as string[]).includes(backend)) problems.push({ field: "OPENCLAW_BACKEND", message: `"${backend}" is not a backend` });
  const concurrency = Number(env.OPENCLAW_MAX_CONCURRENCY || DEFAULT_SETTINGS.maxConcurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    problems.push({ field: "OPENCLAW_MAX_CONCURRENCY", message: "must be a whole number from 1 to 64" });
  }
  const result: RotatorEnvironment = {
    settings: {
      environment: environment as RotatorSettings["environment"],
      gatewayUrl: need("OPENCLAW_GATEWAY_URL").replace(/\/+$/, ""),
      backend: backend as BackendKind,
      quietPeriodMs: duration("OPENCLAW_QUIET_PERIOD", DEFAULT_SETTINGS.quietPeriodMs),
      // "0" revokes on the consumer evidence alone, with no suspension first.
      suspensionWindowMs: env.OPENCLAW_SUSPENSION_WINDOW === "0" ? 0 : duration("OPENCLAW_SUSPENSION_WINDOW", DEFAULT_SETTINGS.suspensionWindowMs),
      maxConcurrency: concurrency,
      leaseTtlMs: DEFAULT_SETTINGS.leaseTtlMs,
      expiryMarginMs: duration("OPENCLAW_EXPIRY_MARGIN", DEFAULT_SETTINGS.expiryMarginMs),
      minRemainingMs: DEFAULT_SETTINGS.minRemainingMs,
    },
    adminSecretId: backend === BackendKind.OpenClawDevices ? need("OPENCLAW_ADMIN_SECRET_ID") : env.OPENCLAW_ADMIN_SECRET_ID || undefined,
    ledgerTable: need("OPENCLAW_LEDGER_TABLE"),
    eventBus: env.OPENCLAW_EVENT_BUS || DEFAULT_EVENT_BUS,
  };
  if (problems.length) throw new ValidationError("The rotator's environment", problems);
  return result;
}
