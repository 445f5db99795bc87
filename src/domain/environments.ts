/**
 * Environments and the token prefixes the guide assigns to them. A token's prefix names the environment that
 * minted it, so a value seen in a log or a secret tells at a glance where it belongs.
 */
export const Environment = {
  Dev: "dev",
  Stage: "stage",
  Prod: "prod",
} as const;

export type Environment = (typeof Environment)[keyof typeof Environment];

export const ALL_ENVIRONMENTS: readonly Environment[] = Object.values(Environment);

export const TOKEN_PREFIX: Readonly<Record<Environment, string>> = {
  dev: "openclaw_gw_dev_",
  stage: "openclaw_gw_stage_",
  prod: "openclaw_gw_live_",
};

export function isEnvironment(value: unknown): value is Environment {
  return typeof value === "string" && (ALL_ENVIRONMENTS as readonly string[]).includes(value);
}

/** The environment whose prefix a token value carries, or undefined for a value with no known prefix. */
export function environmentOfToken(value: string): Environment | undefined {
  return ALL_ENVIRONMENTS.find((env) => value.startsWith(TOKEN_PREFIX[env]));
}
