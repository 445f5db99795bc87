import { Scope } from "../domain/scopes";
import { OperatorScope } from "../gateway/openclaw/scopes";
import { ScopeRules } from "./scope-rules";

/** Whether a token is a CI token: its name has the word "ci" (ci-runner, deploy-ci), words split on "-". */
export function isCiTokenName(name: string): boolean {
  return name.split("-").includes("ci");
}

/**
 * Scopes short of full control that still act on the gateway itself, with why: they need `allowAdminScope: true`
 * like the full-control scope does (which checkInputs refuses on its own).
 */
const ELEVATED_SCOPES: Readonly<Record<string, string>> = {
  [Scope.AdminTools]: "",
  // Minting tokens is granting access: a holder could mint itself a token with any scope short of admin:*.
  [Scope.AdminTokens]: " (it mints tokens, so it can grant any scope short of admin:*)",
  // Approving device pairings is granting access: a holder could pair itself a device with any scope.
  [OperatorScope.Pairing]: " (it approves device pairings, so it can grant any scope)",
};

/**
 * The guide's least-privilege rules, on top of the scope set's own checks, as messages for the `scopes` field:
 *  - a CI token (the word "ci" in its name) holds its backend's CI scopes (run:jobs, and read:jobs to poll) and
 *    nothing else, not even with allowAdminScope: the guide says never give CI tokens admin scopes, and the admin
 *    token a deploy may need is a short-lived one minted for that deploy and revoked after;
 *  - any other token needs allowAdminScope: true for an elevated scope as well as for full control. The opt-in is
 *    one flag for both: either belongs to a named platform admin, and one flag is one thing for a reviewer to question.
 */
export function leastPrivilegeProblems(name: string, scopes: readonly string[], rules: ScopeRules, allowAdminScope: boolean): string[] {
  if (isCiTokenName(name)) {
    const extra = scopes.filter((s) => !rules.ciScopes.includes(s));
    if (extra.length === 0) return [];
    return [
      `${name} is a CI token (its name has the word "ci"), so it gets ${rules.ciScopes.join(" and ")} only; remove ${extra.join(", ")}. A deploy that needs admin actions mints a short-lived admin token and revokes it afterwards`,
    ];
  }
  if (allowAdminScope) return [];
  return scopes
    .filter((scope) => scope in ELEVATED_SCOPES)
    .map(
      (scope) =>
        `${scope} is for platform admins only${ELEVATED_SCOPES[scope]}; grant the narrow scopes ${name} needs, or set allowAdminScope: true if this token belongs to a named platform admin`,
    );
}
