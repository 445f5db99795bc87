import { parseArgs } from "node:util";
import { DEFAULT_SETTINGS } from "../src/rotation/settings";

export const ScenarioId = {
  IdleScan: "idle-scan",
  Rotation: "rotation",
  DueRun: "due-run",
  Pulumi: "pulumi",
  LambdaBundle: "lambda-bundle",
} as const;
export type ScenarioId = (typeof ScenarioId)[keyof typeof ScenarioId];

export const Profile = { Quick: "quick", Full: "full" } as const;
export type Profile = (typeof Profile)[keyof typeof Profile];

/** Sizes and repetitions of one run. */
export interface BenchOptions {
  readonly profile: Profile;
  /** Added to every gateway request. @default 20 */
  readonly latencyMs: number;
  /** The engine's settings.maxConcurrency. @default 8 (DEFAULT_SETTINGS) */
  readonly maxConcurrency: number;
  /** Scenarios to run, in this order. @default all */
  readonly scenarios: readonly ScenarioId[];
  /** Managed tokens in the nothing-due scan. @default [1000] quick, [1000, 10000] full */
  readonly idleSizes: readonly number[];
  /** Scans per size. @default 5 */
  readonly idleRuns: number;
  /** Full rotations (due -> completed). @default 5 quick, 15 full */
  readonly rotationRuns: number;
  /** Tokens due at once. @default 1000 */
  readonly dueTokens: number;
  /** Runs with that many tokens due, in-process and as the bundled Lambda each. @default 1 quick, 3 full */
  readonly dueRuns: number;
  /** GatewayToken resources in the stack. @default 100 */
  readonly pulumiTokens: number;
  /** Create/destroy cycles of the stack. @default 1 quick, 3 full */
  readonly pulumiCycles: number;
  /** No-change `up` and `preview` per cycle (and 1-token previews). @default 2 quick, 3 full */
  readonly pulumiNoChangeRuns: number;
  /** Fresh Node processes per cold-start measurement. @default 10 quick, 20 full */
  readonly coldStartRuns: number;
  /** The whole run is stopped (and fails) after this long: a safety net, several times the usual duration. @default 30 quick, 90 full */
  readonly watchdogMinutes: number;
}

const PROFILES: Record<Profile, Omit<BenchOptions, "latencyMs" | "maxConcurrency" | "scenarios">> = {
  quick: { profile: "quick", idleSizes: [1000], idleRuns: 5, rotationRuns: 5, dueTokens: 1000, dueRuns: 1, pulumiTokens: 100, pulumiCycles: 1, pulumiNoChangeRuns: 2, coldStartRuns: 10, watchdogMinutes: 30 },
  full: { profile: "full", idleSizes: [1000, 10_000], idleRuns: 5, rotationRuns: 15, dueTokens: 1000, dueRuns: 3, pulumiTokens: 100, pulumiCycles: 3, pulumiNoChangeRuns: 3, coldStartRuns: 20, watchdogMinutes: 90 },
};

export const USAGE = `usage: npm run bench [-- [--full] [--latency-ms N] [--concurrency N] [--only ${Object.values(ScenarioId).join(",")}]]
  --full           the full size (10,000-token scan, more repetitions); the default is the quick size
  --latency-ms N   latency the reference gateway adds to every request (default 20)
  --concurrency N  the rotator's maxConcurrency (default ${DEFAULT_SETTINGS.maxConcurrency})
  --only a,b       run only these scenarios`;

/** Thrown for a bad command line; the runner prints it with the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        full: { type: "boolean", default: false },
        quick: { type: "boolean", default: false },
        "latency-ms": { type: "string", default: "20" },
        concurrency: { type: "string", default: String(DEFAULT_SETTINGS.maxConcurrency) },
        only: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  const wholeNumber = (flag: string, raw: string, lo: number, hi: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--${flag} must be a whole number from ${lo} to ${hi}, not "${raw}"`);
    return n;
  };
  const all = Object.values(ScenarioId) as string[];
  const scenarios = values.only ? values.only.split(",").map((s) => s.trim()) : all;
  const unknown = scenarios.filter((s) => !all.includes(s));
  if (unknown.length) throw new UsageError(`--only: unknown scenario ${unknown.join(", ")}; choose from ${all.join(", ")}`);
  return {
    ...PROFILES[values.full ? Profile.Full : Profile.Quick],
    latencyMs: wholeNumber("latency-ms", values["latency-ms"], 0, 10_000),
    maxConcurrency: wholeNumber("concurrency", values.concurrency, 1, 64),
    scenarios: all.filter((s) => scenarios.includes(s)) as ScenarioId[],
  };
}
