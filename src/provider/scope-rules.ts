import { ALL_SCOPES, canonicalScopes, isScope, Scope } from "../domain/scopes";
import { BackendKind } from "../gateway/backend";
import { ALL_OPERATOR_SCOPES, canonicalOperatorScopes, isOperatorScope, OperatorScope } from "../gateway/openclaw/scopes";

/**
 * What a GatewayToken may ask for, per gateway backend: the closed scope set, its canonical order, and the one scope
 * that is full control and so needs `allowAdminScope: true`. checkInputs validates against these, so that a scope the
 * backend cannot grant is refused before anything is minted, with a message that lists the valid ones.
 */
export interface ScopeRules {
  /** The backend's scopes, in canonical order (what messages list). */
  readonly all: readonly string[];
  readonly isScope: (value: unknown) => boolean;
  /** Scopes in canonical order, so that equal sets compare equal and state never shows a reorder as a diff. */
  readonly canonical: (scopes: readonly string[]) => string[];
  /** Full control of the gateway: refused without `allowAdminScope: true`. */
  readonly adminScope: string;
  /** Why the admin scope is refused, and the fix. */
  readonly adminRefusal: string;
  /** What a scope of this backend is called in messages ("scope", "operator scope"). */
  readonly noun: string;
  /**
   * The most a CI token may hold: the guide's "run:jobs only", plus what it needs to poll for results. The
   * least-privilege rules (least-privilege.ts) refuse anything else for a token named as a CI token.
   */
  readonly ciScopes: readonly string[];
}

export const SCOPE_RULES: Readonly<Record<BackendKind, ScopeRules>> = {
  [BackendKind.DocumentedApi]: {
    all: ALL_SCOPES,
    isScope,
    canonical: (scopes) => canonicalScopes(scopes as Scope[]),
    adminScope: Scope.AdminAll,
    adminRefusal:
      "admin:* is full control, for break-glass tokens only; grant the narrow scopes the consumer needs, or set allowAdminScope: true if this token really is a break-glass token",
    noun: "scope",
    ciScopes: [Scope.RunJobs, Scope.ReadJobs],
  },
  [BackendKind.OpenClawDevices]: {
    all: ALL_OPERATOR_SCOPES,
    isScope: isOperatorScope,
    canonical: (scopes) => canonicalOperatorScopes(scopes as OperatorScope[]),
    adminScope: OperatorScope.Admin,
    adminRefusal:
      "operator.admin is full control of the gateway (it satisfies every operator scope), for break-glass tokens only; grant the narrow operator scopes the consumer needs, or set allowAdminScope: true if this token really is a break-glass token",
    noun: "operator scope",
    // Running agents (write) and reading their results (read): the operator counterpart of run:jobs + read:jobs.
    ciScopes: [OperatorScope.Write, OperatorScope.Read],
  },
};

/** The other backend whose scope set has `scope`, if any: a declaration written for one backend and used with another. */
export function backendOfScope(scope: unknown): BackendKind | undefined {
  return (Object.keys(SCOPE_RULES) as BackendKind[]).find((kind) => SCOPE_RULES[kind].isScope(scope));
}
