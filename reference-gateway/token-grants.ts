import { Scope } from "../src/domain/scopes";
import { insufficientScope } from "./auth";
import type { TokenRecord } from "./token-registry";
import type { CreateTokenSpec } from "./token-validation";

/**
 * What a token-management caller may do to other tokens (docs/gateway-api.md, "Token management scope"). Holding
 * `admin:tokens` opens every token-management route, but grants no escalation: `admin:*` stays the break-glass
 * credential of a human, which a token-management credential can neither mint nor revoke, suspend or reinstate.
 * (That an `admin:tokens` token is always short-lived is a rule of the token itself: token-validation.ts.)
 */

/** Refuses (403) a create request whose scopes the caller may not grant. */
export function requireMayMint(caller: TokenRecord, spec: CreateTokenSpec): void {
  if (spec.scopes.includes(Scope.AdminAll) && !holdsFullControl(caller)) {
    throw insufficientScope(Scope.AdminAll, "only an admin:* token may create a token with admin:*; this token manages tokens short of admin:*");
  }
}

/** Refuses (403) a revoke, suspend or reinstate of an `admin:*` token by a caller without `admin:*`. */
export function requireMayChange(caller: TokenRecord, target: TokenRecord, verb: "revoke" | "suspend" | "reinstate"): void {
  if (target.scopes.includes(Scope.AdminAll) && !holdsFullControl(caller)) {
    throw insufficientScope(
      Scope.AdminAll,
      `${target.id} holds admin:* (a break-glass credential); only an admin:* token may ${verb} it`,
    );
  }
}

function holdsFullControl(caller: TokenRecord): boolean {
  return caller.scopes.includes(Scope.AdminAll);
}
