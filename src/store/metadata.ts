import { Environment } from "../domain/environments";

/**
 * Tag keys of a managed secret: its identity only, written once when the secret is created. Nothing the product decides
 * is read from tags (anyone allowed to tag the secret could forge them; the ledger is the state, see
 * docs/threat-model.md). They let people, dashboards and IAM conditions tell which token a secret holds.
 */
export const Tag = {
  ManagedBy: "openclaw:managed-by",
  Environment: "openclaw:environment",
  TokenName: "openclaw:token-name",
} as const;

export const MANAGED_BY = "openclaw-token-ops";

/** The identity tags of a token's secret. */
export function identityTags(environment: Environment, tokenName: string): Record<string, string> {
  return { [Tag.ManagedBy]: MANAGED_BY, [Tag.Environment]: environment, [Tag.TokenName]: tokenName };
}

/** Secret names are namespaced by environment, so that an IAM policy can confine a rotator to its own. */
export function secretNamespace(environment: Environment): string {
  return `openclaw/${environment}/`;
}

export function defaultSecretName(environment: Environment, tokenName: string): string {
  return `${secretNamespace(environment)}${tokenName}`;
}

/**
 * The gateway admin token of an environment lives apart from the tokens it mints, so that a role allowed to
 * write token secrets (the rotator's) can be allowed only to read this one.
 */
export function adminSecretName(environment: Environment): string {
  return `openclaw-admin/${environment}/gateway`;
}

/**
 * The rotator's own gateway credential (documented API): an `admin:tokens` token with a short TTL, managed like any
 * other token (a ledger entry, AWSCURRENT/AWSPREVIOUS) and rotated by the rotator itself, so that no long-lived admin
 * token stays in a deployment. It lives beside the admin secret, outside the token namespace, so that the roles that
 * may read token secrets are not thereby allowed to read it.
 */
export function rotatorCredentialSecretName(environment: Environment): string {
  return `openclaw-admin/${environment}/rotator`;
}

/** The gateway name of the rotator's credential: reserved, so that no declared token can take its secret. */
export const ROTATOR_CREDENTIAL_NAME = "openclaw-rotator";

/** Whether a declaration is the environment's rotator credential (its secret name and token name are both reserved). */
export function isRotatorCredential(declaration: { readonly name: string; readonly secretName: string; readonly environment: Environment }): boolean {
  return declaration.name === ROTATOR_CREDENTIAL_NAME && declaration.secretName === rotatorCredentialSecretName(declaration.environment);
}

/** The environment's ledger table (src/ledger/): the rotation state that only the deployer and the rotator may write. */
export function ledgerTableName(environment: Environment): string {
  return `openclaw-rotator-${environment}-ledger`;
}
