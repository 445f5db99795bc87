import { ValidationError, type Problem } from "../src/domain/errors";

/** What an injected fault does to a request (`POST /_test/faults`). */
export const FaultKind = {
  /** 500 internal. */
  Internal: "500",
  /** 503 unavailable, with Retry-After. */
  Unavailable: "503",
  /** 429 rate_limited, with Retry-After. */
  RateLimited: "429",
  /** No answer until `holdMs` passes (then the socket is dropped) or the server closes. */
  Timeout: "timeout",
  /** The socket is destroyed without an answer. */
  Reset: "reset",
} as const;

export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

const ALL_FAULT_KINDS: readonly FaultKind[] = Object.values(FaultKind);

export interface FaultSpec {
  /** Probability from 0 to 1 that a matching request fails; 0 turns injection off. */
  readonly rate: number;
  /** One of these is picked at random for each failed request. */
  readonly kinds: readonly FaultKind[];
  /** @default 1 */
  readonly retryAfterSeconds: number;
  /** Path prefixes the faults apply to; null for every path. */
  readonly paths: readonly string[] | null;
  /** How long a "timeout" fault holds a request: longer than any sensible client timeout. @default 30000 */
  readonly holdMs: number;
}

export const NO_FAULTS: FaultSpec = { rate: 0, kinds: [], retryAfterSeconds: 1, paths: null, holdMs: 30_000 };

/** Parses a `POST /_test/faults` body, reporting every problem with its fix. */
export function parseFaultSpec(body: unknown): FaultSpec {
  const input = (typeof body === "object" && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const problems: Problem[] = [];
  const { rate, kinds, retryAfterSeconds = NO_FAULTS.retryAfterSeconds, paths = null, holdMs = NO_FAULTS.holdMs } = input;
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    problems.push({ field: "rate", message: "required; a number from 0 (off) to 1 (every request)" });
  }
  const kindsOk =
    Array.isArray(kinds) && kinds.length > 0 && kinds.every((k) => (ALL_FAULT_KINDS as readonly unknown[]).includes(k));
  if (!kindsOk && rate !== 0) {
    problems.push({ field: "kinds", message: `required; a non-empty array of: ${ALL_FAULT_KINDS.join(", ")}` });
  }
  if (!isWholeNumber(retryAfterSeconds)) {
    problems.push({ field: "retryAfterSeconds", message: "must be a whole number of seconds, 0 or more" });
  }
  if (!isWholeNumber(holdMs)) problems.push({ field: "holdMs", message: "must be a whole number of milliseconds" });
  const pathsOk = paths === null || (Array.isArray(paths) && paths.every((p) => typeof p === "string" && p.startsWith("/")));
  if (!pathsOk) problems.push({ field: "paths", message: 'must be an array of path prefixes like "/v1/agents"' });
  if (problems.length > 0) throw new ValidationError("fault spec", problems);
  return {
    rate: rate as number,
    kinds: kindsOk ? (kinds as FaultKind[]) : [],
    retryAfterSeconds: retryAfterSeconds as number,
    paths: paths as string[] | null,
    holdMs: holdMs as number,
  };
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** Decides, request by request, whether to inject a fault and which one. */
export class FaultInjector {
  #spec: FaultSpec = NO_FAULTS;
  #injected = 0;

  get spec(): FaultSpec {
    return this.#spec;
  }

  /** Faults injected since the spec was last set: lets a test show that its faults really happened. */
  get injected(): number {
    return this.#injected;
  }

  set(spec: FaultSpec): void {
    this.#spec = spec;
    this.#injected = 0;
  }

  /** The fault for a request to `path`, or undefined to serve it normally. */
  pick(path: string): FaultKind | undefined {
    const { rate, kinds, paths } = this.#spec;
    if (rate === 0 || kinds.length === 0) return undefined;
    if (paths !== null && !paths.some((prefix) => path.startsWith(prefix))) return undefined;
    if (Math.random() >= rate) return undefined;
    this.#injected++;
    return kinds[Math.floor(Math.random() * kinds.length)];
  }
}
