import { BackendKind } from "../gateway/backend";
import { Declaration } from "../ledger/ledger";
import { leastPrivilegeProblems } from "../provider/least-privilege";
import { SCOPE_RULES } from "../provider/scope-rules";

/**
 * What is wrong with minting a token of this declaration, checked again before every mint (not only at `pulumi up`):
 * scopes from the backend's set, full control only with the opt-in, and the guide's least-privilege rules.
 */
export function mintPolicyProblems(declaration: Declaration): string[] {
  const rules = SCOPE_RULES[declaration.backend as BackendKind];
  if (!rules) return [`backend "${declaration.backend}" is unknown`];
  const problems: string[] = [];
  if (declaration.scopes.length === 0) problems.push("no scopes are declared");
  const unknown = declaration.scopes.filter((s) => !rules.isScope(s));
  if (unknown.length) problems.push(`${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not ${rules.noun}s of ${declaration.backend}`);
  if (declaration.scopes.includes(rules.adminScope) && !declaration.allowAdminScope) problems.push(rules.adminRefusal);
  problems.push(...leastPrivilegeProblems(declaration.name, declaration.scopes, rules, declaration.allowAdminScope));
  return problems;
}
