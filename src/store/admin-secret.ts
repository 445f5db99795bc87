import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Environment, environmentOfToken } from "../domain/environments";
import { EnvironmentMismatchError, TokenOpsError } from "../domain/errors";
import { Sensitive } from "../domain/sensitive";
import { BackendKind } from "../gateway/backend";
import { adminSecretName } from "./metadata";
import { StoreError } from "./secrets-manager-store";

/**
 * Reads an environment's gateway admin token (AWSCURRENT of openclaw-admin/<env>/gateway, a plain string).
 * Refuses a secret of another environment's namespace, and a documented-API token without the environment's prefix.
 */
export async function readAdminToken(
  client: SecretsManagerClient,
  secretId: string,
  environment: Environment,
  backend: BackendKind,
): Promise<Sensitive> {
  const expected = adminSecretName(environment);
  const name = secretId.includes(":secret:") ? secretId.split(":secret:")[1].replace(/-[A-Za-z0-9]{6}$/, "") : secretId;
  if (name !== expected) {
    throw new EnvironmentMismatchError(`the admin secret ${secretId} is not ${expected}`, `the ${environment} rotator reads only ${expected}`);
  }
  const sdk = require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager");
  let value: string | undefined;
  try {
    value = (await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    throw new StoreError("GetSecretValue", secretId, error);
  }
  if (!value) {
    throw new TokenOpsError("admin_secret_empty", `the admin secret ${secretId} has no value`, {
      hint: `set it: pulumi config set --secret openclaw:adminToken <token>, then pulumi up`,
    });
  }
  if (backend === BackendKind.DocumentedApi && environmentOfToken(value) !== environment) {
    throw new EnvironmentMismatchError(`the admin secret ${secretId} does not hold a ${environment} token`, `store the ${environment} gateway's admin token in it`);
  }
  return new Sensitive(value);
}
