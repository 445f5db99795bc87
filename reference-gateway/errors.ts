import { TokenOpsError } from "../src/domain/errors";

/**
 * The error codes of the HTTP contract (docs/gateway-api.md). Clients match on these, never on messages.
 */
export const ApiErrorCode = {
  InvalidRequest: "invalid_request",
  InvalidToken: "invalid_token",
  TokenExpired: "token_expired",
  InsufficientScope: "insufficient_scope",
  NotFound: "not_found",
  MethodNotAllowed: "method_not_allowed",
  Conflict: "conflict",
  RequestTimeout: "request_timeout",
  HeadersTooLarge: "headers_too_large",
  RateLimited: "rate_limited",
  Internal: "internal",
  Unavailable: "unavailable",
  TokenSuspended: "token_suspended",
  BadGateway: "bad_gateway",
  UpstreamTimeout: "upstream_timeout",
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/**
 * An error the gateway answers with. Handlers throw it; the server turns it into
 * `{"error":{"code","message",...details}}` with `status` and `headers`. Messages never hold a token value.
 */
export class ApiError extends TokenOpsError {
  override name = "ApiError";
  override readonly code: ApiErrorCode;
  readonly status: number;
  /** Extra fields merged into the error object, e.g. `required_scope` or `problems`. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.code = code;
    this.status = status;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

/**
 * The request log cannot be written (fleet registry): refusing is safer than answering without a record, since a
 * rotator reads that record to decide whether a consumer still uses a token. The message names no token.
 */
export function requestLogUnavailable(why: string, retryAfterSeconds: number): ApiError {
  return new ApiError(503, ApiErrorCode.Unavailable, `request log unavailable: ${why}; retry after ${retryAfterSeconds} s`, {
    details: { reason: "request_log_unavailable" },
    headers: { "retry-after": String(retryAfterSeconds) },
  });
}

/** Bad command-line usage: main prints the message and the usage text and exits with code 2. */
export class UsageError extends TokenOpsError {
  override name = "UsageError";
  constructor(message: string) {
    super("usage", message);
  }
}

/** The state directory cannot be used: unreadable, corrupt, locked, or of another environment. */
export class StateError extends TokenOpsError {
  override name = "StateError";
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("state", message, options);
  }
}
