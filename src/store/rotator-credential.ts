import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Environment } from "../domain/environments";
import type { BackendKind } from "../gateway/backend";
import { TokenOpsError } from "../domain/errors";
import { Sensitive } from "../domain/sensitive";
import { fingerprint } from "../ledger/fingerprint";
import { Ledger } from "../ledger/ledger";
import { isRotatorCredential, rotatorCredentialSecretName } from "./metadata";
import { parseRecord } from "./record";
import { StoreError } from "./secrets-manager-store";

/** How to create the credential when it is missing or dead: a human with the break-glass admin:* token, once. */
export const BOOTSTRAP_HINT = (environment: Environment) =>
  `bootstrap it with the break-glass admin token: OPENCLAW_ADMIN_TOKEN=... openclaw-tokens bootstrap-rotator --environment ${environment} (docs/runbook.md, "Rotator credential")`;

/**
 * Reads the rotator's own gateway credential: the version of openclaw-admin/<env>/rotator the ledger records as current,
 * else AWSCURRENT; used only if its SHA-256 is that of a token the ledger records for the credential (for AWSCURRENT:
 * current, pending or retiring, since a promotion moves the stage before the ledger). Secrets Manager values are writable by more principals than
 * the ledger is (docs/threat-model.md): a value planted there is refused rather than presented to the gateway.
 * `presentedTo` is where the caller will send it: refused unless it is the gateway the credential's entry declares (a
 * token declaration, or a flag, naming another host must not receive the environment's token-management credential).
 */
export async function readRotatorCredential(
  client: SecretsManagerClient,
  ledger: Ledger,
  environment: Environment,
  presentedTo?: { readonly url: string; readonly kind: BackendKind },
): Promise<Sensitive> {
  const secretName = rotatorCredentialSecretName(environment);
  const entry = await ledger.get(secretName);
  if (!entry || !isRotatorCredential(entry.declaration)) {
    throw new TokenOpsError("rotator_credential_missing", `the ${environment} ledger has no rotator credential (${secretName})`, { hint: BOOTSTRAP_HINT(environment) });
  }
  const declared = entry.declaration;
  if (presentedTo && (withoutSlash(presentedTo.url) !== withoutSlash(declared.gatewayUrl) || presentedTo.kind !== declared.backend)) {
    throw new TokenOpsError("rotator_credential_elsewhere", `the ${environment} rotator credential belongs to ${declared.gatewayUrl} (${declared.backend}), not ${presentedTo.url} (${presentedTo.kind}); it is not sent there`, {
      hint: `declare the token with gatewayUrl ${declared.gatewayUrl}, or give that gateway's own adminToken`,
    });
  }
  const sdk = require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager");
  const read = async (version: { VersionId: string } | { VersionStage: "AWSCURRENT" }): Promise<Sensitive | undefined> => {
    let out: { SecretString?: string; VersionId?: string };
    try {
      out = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretName, ...version }));
    } catch (error) {
      throw new StoreError("GetSecretValue", secretName, error);
    }
    return out.SecretString ? parseRecord(out.SecretString, secretName, out.VersionId ?? "").token : undefined;
  };
  // The version the ledger records as current, first: a version's value cannot change, and a stage moved or a value put
  // by someone else must not stop every run of the environment (nothing could then rotate the credential to repair it).
  const current = entry.state.current;
  if (current) {
    // Only a version that is gone falls through to AWSCURRENT; any other failure (AccessDenied, throttling) is the answer.
    const recorded = await read({ VersionId: current.versionId }).catch((error: unknown) => {
      if (error instanceof StoreError && error.code === "store_ResourceNotFoundException") return undefined;
      throw error;
    });
    if (recorded && fingerprint(recorded) === current.valueSha256) return recorded;
  }
  // No usable recorded version (an entry mid-recovery, a version removed): AWSCURRENT, if it is a token the ledger knows.
  // The stage named, not implied: moto answers a bare GetSecretValue with the version that was AWSCURRENT before the
  // last UpdateSecretVersionStage moved it (docs/aws-behaviour.md); AWS answers AWSCURRENT either way.
  const token = await read({ VersionStage: "AWSCURRENT" });
  const known = [entry.state.current, entry.state.pending, entry.state.retiring].filter((t) => t !== undefined).map((t) => t.valueSha256);
  if (!token || !known.includes(fingerprint(token))) {
    throw new TokenOpsError("rotator_credential_mismatch", `AWSCURRENT of ${secretName} is not a token the ledger records for the rotator`, {
      hint: `someone wrote the secret outside the rotator; look at its versions (aws secretsmanager list-secret-version-ids --secret-id ${secretName}) and CloudTrail, then ${BOOTSTRAP_HINT(environment)}`,
    });
  }
  return token;
}

function withoutSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
