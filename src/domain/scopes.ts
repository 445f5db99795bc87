/** Gateway token scopes, as the gateway-token guide defines them (docs/gateway-api.md). */
export const Scope = {
  ReadAgents: "read:agents",
  ReadJobs: "read:jobs",
  RunJobs: "run:jobs",
  WriteAgents: "write:agents",
  AdminTools: "admin:tools",
  /**
   * Token management alone: create, inspect, list, suspend, reinstate and revoke tokens and read their request logs,
   * nothing else. The rotator's own credential (docs/gateway-api.md): never admin:*, never agents, jobs or tools.
   */
  AdminTokens: "admin:tokens",
  AdminAll: "admin:*",
} as const;

export type Scope = (typeof Scope)[keyof typeof Scope];

/** The longest life of an admin:tokens token (docs/gateway-api.md): no long-lived token-management credential exists. */
export const MAX_ADMIN_TOKENS_TTL_SECONDS = 30 * 86_400;

export const ALL_SCOPES: readonly Scope[] = Object.values(Scope);

export function isScope(value: unknown): value is Scope {
  return typeof value === "string" && (ALL_SCOPES as readonly string[]).includes(value);
}

/** Whether a token holding `held` may call an endpoint that requires `required`. `admin:*` is full control. */
export function scopeSatisfies(held: readonly string[], required: Scope): boolean {
  return held.includes(Scope.AdminAll) || held.includes(required);
}

/** Scopes in a canonical order, so that equal sets compare equal and state never shows a reorder as a diff. */
export function canonicalScopes(scopes: readonly Scope[]): Scope[] {
  return ALL_SCOPES.filter((s) => scopes.includes(s));
}
