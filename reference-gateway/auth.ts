import { scopeSatisfies, type Scope } from "../src/domain/scopes";
import { ApiError, ApiErrorCode } from "./errors";
import type { TokenStore } from "./registry-store";
import { TokenStatus, tokenStatus, type TokenRecord } from "./token-registry";

/**
 * Who a request claims to be. `record` is set whenever the bearer value matches a stored token, whatever
 * its status, because the request log records those requests too (revoked and expired included).
 */
export type Caller =
  | { readonly record: undefined }
  | { readonly record: TokenRecord; readonly status: TokenStatus };

export const ANONYMOUS: Caller = { record: undefined };
/** RFC 6750 challenge on every 401; it says which scheme to use and nothing about the token. */
const CHALLENGE = { "www-authenticate": 'Bearer error="invalid_token"' };

/**
 * The token value of an `Authorization: Bearer <value>` header. Strict on purpose: exactly "Bearer" with a
 * capital B and one space, as the guide requires, because proxies in the wild drop other spellings.
 */
export function bearerValue(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer ([^\s]+)$/.exec(header);
  return match?.[1];
}

export async function identifyCaller(registry: TokenStore, authorization: string | undefined, nowMs: number): Promise<Caller> {
  const value = bearerValue(authorization);
  const record = value === undefined ? undefined : await registry.findByValue(value);
  return record ? { record, status: tokenStatus(record, nowMs) } : ANONYMOUS;
}

/**
 * The caller's token if it is active. Unknown, malformed, wrong-scheme and revoked tokens all get the same
 * "invalid token" answer, so a probe learns nothing about which tokens exist or were revoked.
 */
export function requireActiveToken(caller: Caller): TokenRecord {
  if (caller.record === undefined || caller.status === TokenStatus.Revoked) {
    throw new ApiError(401, ApiErrorCode.InvalidToken, "invalid token", { headers: CHALLENGE });
  }
  if (caller.status === TokenStatus.Expired) {
    throw new ApiError(401, ApiErrorCode.TokenExpired, "token expired", { headers: CHALLENGE });
  }
  // Said plainly, unlike a revoked token: a suspension is reversible, and the consumer's owner must learn that
  // its token is on the way out (docs/gateway-api.md, "Suspension").
  if (caller.status === TokenStatus.Suspended) {
    throw new ApiError(401, ApiErrorCode.TokenSuspended, "token suspended", { headers: CHALLENGE });
  }
  return caller.record;
}

export function requireScope(record: TokenRecord, required: Scope): void {
  if (!scopeSatisfies(record.scopes, required)) throw insufficientScope(required);
}

/** The 403 of a missing scope; `why` replaces the plain "requires <scope>" where the rule needs explaining. */
export function insufficientScope(required: Scope, why = `requires ${required}`): ApiError {
  return new ApiError(403, ApiErrorCode.InsufficientScope, `insufficient scope: ${why}`, {
    details: { required_scope: required },
    headers: { "www-authenticate": `Bearer error="insufficient_scope", scope="${required}"` },
  });
}
