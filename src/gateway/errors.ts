import { TokenOpsError } from "../domain/errors";

/** Where a gateway call went: enough to find the failing request, never a credential. */
export interface GatewayCallContext {
  readonly method: string;
  /** Path of the endpoint, without query string. */
  readonly endpoint: string;
  readonly gatewayUrl: string;
  /** The token the call was made with or about, by ID, when known. */
  readonly tokenId?: string;
}

/** Any failure talking to a gateway. Subclasses follow the failure-mode table of the gateway-token guide. */
export class GatewayError extends TokenOpsError {
  override name = "GatewayError";
  readonly status: number | undefined;
  readonly context: GatewayCallContext;

  constructor(
    code: string,
    context: GatewayCallContext,
    detail: string,
    options: { status?: number; hint?: string; cause?: unknown } = {},
  ) {
    const about = context.tokenId ? ` (token ${context.tokenId})` : "";
    const status = options.status === undefined ? "" : ` answered ${options.status}`;
    super(code, `${context.method} ${context.gatewayUrl}${context.endpoint}${about}${status}: ${detail}`, options);
    this.status = options.status;
    this.context = context;
  }
}

/** 401 invalid token: unknown, mistyped, revoked, or sent without the exact `Bearer ` scheme. */
export class InvalidTokenError extends GatewayError {
  override name = "InvalidTokenError";
  constructor(context: GatewayCallContext, detail = "invalid token") {
    super("invalid_token", context, detail, {
      status: 401,
      hint:
        "the gateway does not accept this token: check that it was copied in full, that the header is exactly " +
        "'Authorization: Bearer <token>', that it was not revoked, and that it belongs to this gateway's environment",
    });
  }
}

/** 401 token expired: the token passed its TTL. */
export class TokenExpiredError extends GatewayError {
  override name = "TokenExpiredError";
  constructor(context: GatewayCallContext) {
    super("token_expired", context, "token expired", {
      status: 401,
      hint: "mint a new token (`pulumi up` repairs a declared GatewayToken) and let the rotator replace it before expiry",
    });
  }
}

/** 401 token suspended: the token is being retired and may be reinstated; the consumer should re-read the secret. */
export class TokenSuspendedError extends GatewayError {
  override name = "TokenSuspendedError";
  constructor(context: GatewayCallContext) {
    super("token_suspended", context, "token suspended", {
      status: 401,
      hint: "this token is being retired: re-read the current token from the secret (AWSCURRENT) and retry",
    });
  }
}

/** 403 insufficient scope: the token is valid but lacks the scope the endpoint needs. */
export class InsufficientScopeError extends GatewayError {
  override name = "InsufficientScopeError";
  readonly requiredScope: string | undefined;
  constructor(context: GatewayCallContext, requiredScope: string | undefined) {
    super("insufficient_scope", context, `insufficient scope${requiredScope ? `: requires ${requiredScope}` : ""}`, {
      status: 403,
      hint: `grant ${requiredScope ?? "the needed scope"} to the token that makes this call; do not broaden it to admin:*`,
    });
    this.requiredScope = requiredScope;
  }
}

/** The gateway could not be reached or kept failing (network, timeout, 429, 5xx) after every retry. */
export class GatewayUnavailableError extends GatewayError {
  override name = "GatewayUnavailableError";
  constructor(context: GatewayCallContext, detail: string, options: { status?: number; cause?: unknown } = {}) {
    super("gateway_unavailable", context, detail, {
      ...options,
      hint: "check that the gateway URL is right and the gateway is up; the call is safe to retry later",
    });
  }
}

/**
 * A non-idempotent call (minting) failed in a way that leaves unknown whether the gateway acted on it. The caller
 * must look the token up by its (unique) name and revoke or adopt it; see GatewayBackend.mint.
 */
export class AmbiguousOutcomeError extends GatewayError {
  override name = "AmbiguousOutcomeError";
  constructor(context: GatewayCallContext, detail: string, cause?: unknown) {
    super("ambiguous_outcome", context, detail, {
      cause,
      hint: "the gateway may or may not have acted; look the token up by name before retrying",
    });
  }
}

/** The gateway refused the request as malformed or unknown (400, 404, 409): retrying will not help. */
export class GatewayRequestError extends GatewayError {
  override name = "GatewayRequestError";
  constructor(context: GatewayCallContext, status: number, detail: string) {
    super(status === 404 ? "not_found" : "bad_request", context, detail, { status });
  }
}
