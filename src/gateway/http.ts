import { redactTokens } from "../domain/redact";
import { Sensitive } from "../domain/sensitive";
import {
  AmbiguousOutcomeError,
  GatewayCallContext,
  GatewayRequestError,
  GatewayUnavailableError,
  InsufficientScopeError,
  InvalidTokenError,
  TokenExpiredError,
  TokenSuspendedError,
} from "./errors";

/** How hard to try before giving up on a gateway call. */
export interface RetryPolicy {
  /** Attempts in all, the first included. @default 4 */
  readonly maxAttempts: number;
  /** Backoff before the second attempt; doubles each time, with full jitter. @default 200 */
  readonly baseDelayMs: number;
  /** Cap on one backoff, and on how long a Retry-After is honoured. @default 10000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000 };

export interface HttpOptions {
  readonly baseUrl: string;
  /** Sent on every call; the rotator's own calls are told apart from consumers' traffic by it. */
  readonly userAgent: string;
  /** Per attempt. @default 10000 */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Injected in tests to produce faults a real peer cannot. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Injected in tests so that backoff costs no wall time. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface HttpCall {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  readonly query?: Record<string, string | undefined>;
  readonly token: Sensitive;
  readonly body?: unknown;
  /**
   * Whether repeating the call is harmless. A non-idempotent call (mint) is retried only when the gateway
   * certainly did not act on it (connection refused, 429); otherwise it fails with AmbiguousOutcomeError.
   */
  readonly idempotent: boolean;
  /** For error messages: the token the call is about. */
  readonly tokenId?: string;
}

interface ErrorBody {
  error?: { code?: string; message?: string; required_scope?: string };
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** Network failures where the request never reached the server: safe to repeat even a mint. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

export class HttpClient {
  private readonly retry: RetryPolicy;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly baseUrl: string;

  constructor(private readonly options: HttpOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  /** Performs the call with retries and returns the parsed JSON body of a 2xx answer. */
  async json<T>(call: HttpCall): Promise<T> {
    const context: GatewayCallContext = {
      method: call.method,
      endpoint: call.path,
      gatewayUrl: this.baseUrl,
      tokenId: call.tokenId,
    };
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.retry.maxAttempts;
      let response: Response;
      try {
        response = await this.send(call);
      } catch (error) {
        const notSent = NOT_SENT_CODES.has(networkCode(error));
        if (!call.idempotent && !notSent) {
          throw new AmbiguousOutcomeError(context, `no answer (${describeNetworkError(error)})`, error);
        }
        if (last) {
          throw new GatewayUnavailableError(
            context,
            `no answer after ${attempt} attempts (${describeNetworkError(error)})`,
            { cause: error },
          );
        }
        await this.sleep(this.backoff(attempt));
        continue;
      }
      if (response.ok) return (await response.json()) as T;

      const body = await readErrorBody(response);
      const detail = redactTokens(body.error?.message ?? response.statusText);
      if (response.status === 401) {
        if (body.error?.code === "token_expired") throw new TokenExpiredError(context);
        if (body.error?.code === "token_suspended") throw new TokenSuspendedError(context);
        throw new InvalidTokenError(context);
      }
      if (response.status === 403) throw new InsufficientScopeError(context, body.error?.required_scope);
      if (!RETRYABLE_STATUS.has(response.status)) throw new GatewayRequestError(context, response.status, detail);
      // 429 means the gateway refused before acting; any other 5xx on a mint may have minted.
      if (!call.idempotent && response.status !== 429) {
        throw new AmbiguousOutcomeError(context, `answered ${response.status}: ${detail}`);
      }
      if (last) {
        throw new GatewayUnavailableError(context, `${detail} after ${attempt} attempts`, {
          status: response.status,
        });
      }
      await this.sleep(Math.max(this.backoff(attempt), this.retryAfterMs(response)));
    }
  }

  private async send(call: HttpCall): Promise<Response> {
    const url = new URL(this.baseUrl + call.path);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    return this.fetchImpl(url, {
      method: call.method,
      headers: {
        // Exactly "Bearer" and one space: the guide reports proxies that drop a lower-cased scheme.
        Authorization: `Bearer ${call.token.reveal()}`,
        "User-Agent": this.options.userAgent,
        Accept: "application/json",
        ...(call.body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
  }

  /** Exponential backoff with full jitter: spreads retries of many clients over time. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(Math.random() * ceiling);
  }

  private retryAfterMs(response: Response): number {
    const header = response.headers.get("retry-after");
    if (!header) return 0;
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
    return Math.min(this.retry.maxDelayMs, Math.max(0, ms));
  }
}

async function readErrorBody(response: Response): Promise<ErrorBody> {
  try {
    return (await response.json()) as ErrorBody;
  } catch {
    return {};
  }
}

function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return cause?.code ?? (error as { code?: string })?.code ?? "";
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return "timed out";
  const code = networkCode(error);
  return code || redactTokens(error instanceof Error ? error.message : String(error));
}
