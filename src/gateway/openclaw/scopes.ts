/**
 * Operator scopes of the real OpenClaw gateway (openclaw 2026.9.6): the closed set of its
 * `src/gateway/operator-scopes.ts` (KNOWN_OPERATOR_SCOPES). docs/gateway/protocol/handshake.md lists eight of them;
 * the gateway's code also knows the two session scopes. A paired device carries a subset of these.
 *
 * The gateway itself does NOT refuse an unknown `operator.*` name at pairing (it pairs `operator.bogus` and only
 * ever matches it exactly), so this project checks requested scopes against this set before it pairs anything.
 */
export const OperatorScope = {
  Read: "operator.read",
  Write: "operator.write",
  Admin: "operator.admin",
  Pairing: "operator.pairing",
  Approvals: "operator.approvals",
  Questions: "operator.questions",
  Talk: "operator.talk",
  TalkSecrets: "operator.talk.secrets",
  SessionsRead: "operator.sessions.read",
  SessionsWrite: "operator.sessions.write",
} as const;

export type OperatorScope = (typeof OperatorScope)[keyof typeof OperatorScope];

export const ALL_OPERATOR_SCOPES: readonly OperatorScope[] = Object.values(OperatorScope);

/** The role every device this project pairs connects with. */
export const OPERATOR_ROLE = "operator";

export function isOperatorScope(value: unknown): value is OperatorScope {
  return typeof value === "string" && (ALL_OPERATOR_SCOPES as readonly string[]).includes(value);
}

/**
 * Whether `held` covers `required`, with the gateway's implications (`operatorScopeSatisfied` in its
 * `src/shared/operator-scope-compat.ts`): `operator.admin` covers every scope; `operator.write` covers read, talk
 * and both session scopes; `operator.sessions.read` is also covered by read or sessions.write; others match exactly.
 */
export function operatorScopeSatisfies(held: readonly string[], required: OperatorScope): boolean {
  if (held.includes(required) || held.includes(OperatorScope.Admin)) return true;
  const writeCovers: readonly OperatorScope[] = [
    OperatorScope.Read,
    OperatorScope.Talk,
    OperatorScope.SessionsRead,
    OperatorScope.SessionsWrite,
  ];
  if (writeCovers.includes(required) && held.includes(OperatorScope.Write)) return true;
  return (
    required === OperatorScope.SessionsRead &&
    (held.includes(OperatorScope.Read) || held.includes(OperatorScope.SessionsWrite))
  );
}

/** Scopes in the canonical order of ALL_OPERATOR_SCOPES, duplicates dropped: equal sets compare equal. */
export function canonicalOperatorScopes(scopes: readonly OperatorScope[]): OperatorScope[] {
  return ALL_OPERATOR_SCOPES.filter((s) => scopes.includes(s));
}

/** Whether two scope lists hold the same set, whatever their order. */
export function sameScopeSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((s) => right.has(s));
}
