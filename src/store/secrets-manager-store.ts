import type { SecretsManagerClient, SecretsManagerClientConfig, Tag as AwsTag } from "@aws-sdk/client-secrets-manager";
import { Environment } from "../domain/environments";
import { EnvironmentMismatchError, TokenOpsError } from "../domain/errors";
import { redactTokens } from "../domain/redact";
import { identityTags, rotatorCredentialSecretName, secretNamespace } from "./metadata";
import { parseRecord, serialiseRecord, TokenRecord } from "./record";
import { DeleteOptions, Stage, StoredSecret, TokenStore } from "./token-store";

/** A Secrets Manager call that failed; names the secret and the operation, never the value. */
export class StoreError extends TokenOpsError {
  override name = "StoreError";
  constructor(operation: string, secretName: string, cause: unknown) {
    const awsName = (cause as { name?: string })?.name ?? "Error";
    const detail = redactTokens(cause instanceof Error ? cause.message : String(cause));
    super(`store_${awsName}`, `Secrets Manager ${operation} on ${secretName} failed: ${awsName}: ${detail}`, {
      cause,
      hint: HINTS[awsName],
    });
  }
}

const HINTS: Record<string, string> = {
  AccessDeniedException: "the caller's IAM policy does not cover this secret; each environment may only touch its own openclaw/<env>/ secrets",
  ResourceExistsException: "a secret (or a version) of that name already exists: a version ID is never reused with other content",
  InvalidRequestException: "if the secret is scheduled for deletion, restore it (aws secretsmanager restore-secret) or choose another secretName",
};

export interface SecretsManagerStoreOptions {
  readonly environment: Environment;
  /** An existing client (tests, custom credentials). When absent one is made from `clientConfig`. */
  readonly client?: SecretsManagerClient;
  /** Region and endpoint; the SDK also honours AWS_REGION and AWS_ENDPOINT_URL. */
  readonly clientConfig?: SecretsManagerClientConfig;
}

/** TokenStore on AWS Secrets Manager: one secret per token, one version per token value, standard stages. */
export class SecretsManagerTokenStore implements TokenStore {
  readonly environment: Environment;
  private readonly client: SecretsManagerClient;
  private readonly sdk: typeof import("@aws-sdk/client-secrets-manager");

  constructor(options: SecretsManagerStoreOptions) {
    // Loaded here rather than at module level so that importing this module costs nothing until it is used.
    this.sdk = require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager");
    this.environment = options.environment;
    this.client = options.client ?? new this.sdk.SecretsManagerClient(options.clientConfig ?? {});
  }

  async resolveName(secretId: string): Promise<string> {
    if (!secretId.startsWith("arn:")) {
      this.assertInNamespace(secretId);
      return secretId;
    }
    let name: string | undefined;
    try {
      name = (await this.client.send(new this.sdk.DescribeSecretCommand({ SecretId: secretId }))).Name;
    } catch (error) {
      throw wrap("DescribeSecret", secretId, error);
    }
    if (!name) throw new StoreError("DescribeSecret", secretId, new Error("the answer names no secret"));
    this.assertInNamespace(name);
    return name;
  }

  async describe(name: string): Promise<StoredSecret | undefined> {
    this.assertInNamespace(name);
    try {
      const out = await this.client.send(new this.sdk.DescribeSecretCommand({ SecretId: name }));
      // Tags are not checked here: anyone allowed to tag could forge them, and a refusal on a forged tag would wedge the
      // token. The namespace (by name) and the ledger decide.
      return toStoredSecret(out);
    } catch (error) {
      if (isAws(error, "ResourceNotFoundException")) return undefined;
      throw wrap("DescribeSecret", name, error);
    }
  }

  async read(name: string, version: Stage | { versionId: string }): Promise<TokenRecord | undefined> {
    this.assertInNamespace(name);
    const selector = typeof version === "string" ? { VersionStage: version } : { VersionId: version.versionId };
    try {
      const out = await this.client.send(new this.sdk.GetSecretValueCommand({ SecretId: name, ...selector }));
      const record = parseRecord(out.SecretString ?? "", name, out.VersionId ?? "?");
      if (record.environment !== this.environment) {
        throw new EnvironmentMismatchError(
          `secret ${name} holds a ${record.environment} token`,
          `only the ${record.environment} stack and rotator may use it; check the secret was not copied between environments`,
        );
      }
      return record;
    } catch (error) {
      if (isAws(error, "ResourceNotFoundException")) return undefined;
      throw wrap("GetSecretValue", name, error);
    }
  }

  async create(name: string, versionId: string, record: TokenRecord): Promise<StoredSecret> {
    this.assertInNamespace(name);
    this.assertRecordEnvironment(name, record);
    try {
      await this.client.send(
        new this.sdk.CreateSecretCommand({
          Name: name,
          ClientRequestToken: versionId,
          SecretString: serialiseRecord(record),
          Description: describeToken(record),
          Tags: toAwsTags(identityTags(record.environment, record.name)),
        }),
      );
    } catch (error) {
      throw wrap("CreateSecret", name, error);
    }
    const created = await this.describe(name);
    if (!created) throw new StoreError("DescribeSecret", name, new Error("the secret vanished right after creation"));
    return created;
  }

  async tagIdentity(name: string, environment: Environment, tokenName: string): Promise<void> {
    this.assertInNamespace(name);
    try {
      await this.client.send(new this.sdk.TagResourceCommand({ SecretId: name, Tags: toAwsTags(identityTags(environment, tokenName)) }));
    } catch (error) {
      throw wrap("TagResource", name, error);
    }
  }

  async restore(name: string): Promise<void> {
    this.assertInNamespace(name);
    try {
      await this.client.send(new this.sdk.RestoreSecretCommand({ SecretId: name }));
    } catch (error) {
      throw wrap("RestoreSecret", name, error);
    }
  }

  async putVersion(name: string, versionId: string, record: TokenRecord, stages: readonly Stage[]): Promise<void> {
    this.assertInNamespace(name);
    this.assertRecordEnvironment(name, record);
    try {
      await this.client.send(
        new this.sdk.PutSecretValueCommand({
          SecretId: name,
          ClientRequestToken: versionId,
          SecretString: serialiseRecord(record),
          VersionStages: [...stages],
        }),
      );
    } catch (error) {
      throw wrap("PutSecretValue", name, error);
    }
  }

  async moveStage(name: string, stage: Stage, toVersionId: string, fromVersionId: string | undefined): Promise<void> {
    this.assertInNamespace(name);
    try {
      await this.client.send(
        new this.sdk.UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: stage,
          MoveToVersionId: toVersionId,
          RemoveFromVersionId: fromVersionId === toVersionId ? undefined : fromVersionId,
        }),
      );
    } catch (error) {
      throw wrap(`UpdateSecretVersionStage(${stage})`, name, error);
    }
  }

  async removeStage(name: string, stage: Stage, fromVersionId: string): Promise<void> {
    this.assertInNamespace(name);
    try {
      await this.client.send(
        new this.sdk.UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: stage,
          RemoveFromVersionId: fromVersionId,
        }),
      );
    } catch (error) {
      throw wrap(`UpdateSecretVersionStage(remove ${stage})`, name, error);
    }
  }

  async delete(name: string, options: DeleteOptions): Promise<void> {
    this.assertInNamespace(name);
    const immediate = options.recoveryWindowDays === 0;
    try {
      await this.client.send(
        new this.sdk.DeleteSecretCommand({
          SecretId: name,
          ...(immediate ? { ForceDeleteWithoutRecovery: true } : { RecoveryWindowInDays: options.recoveryWindowDays }),
        }),
      );
    } catch (error) {
      if (isAws(error, "ResourceNotFoundException")) return;
      throw wrap("DeleteSecret", name, error);
    }
  }

  private assertInNamespace(name: string): void {
    const namespace = secretNamespace(this.environment);
    // The one secret outside the namespace that the store writes: the rotator's own credential, rotated like a token.
    if (name === rotatorCredentialSecretName(this.environment)) return;
    if (!name.startsWith(namespace)) {
      throw new EnvironmentMismatchError(
        `secret ${name} is outside the ${this.environment} namespace ${namespace}`,
        `${this.environment} tokens live under ${namespace}; use a secret name that starts with it`,
      );
    }
  }

  private assertRecordEnvironment(name: string, record: TokenRecord): void {
    if (record.environment !== this.environment) {
      throw new EnvironmentMismatchError(
        `refusing to write a ${record.environment} token into ${name}`,
        `the ${this.environment} store only holds ${this.environment} tokens`,
      );
    }
  }
}

interface SecretDescription {
  Name?: string;
  ARN?: string;
  Tags?: AwsTag[];
  VersionIdsToStages?: Record<string, string[]>;
  SecretVersionsToStages?: Record<string, string[]>;
  DeletedDate?: Date;
}

function toStoredSecret(out: SecretDescription): StoredSecret {
  const tags = Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  const stages: Partial<Record<Stage, string>> = {};
  for (const [versionId, labels] of Object.entries(out.VersionIdsToStages ?? out.SecretVersionsToStages ?? {})) {
    for (const label of labels) {
      if (label === Stage.Current || label === Stage.Pending || label === Stage.Previous) stages[label] = versionId;
    }
  }
  return {
    name: out.Name ?? "",
    arn: out.ARN ?? "",
    tags,
    stages,
    deletedAt: out.DeletedDate,
  };
}

function toAwsTags(tags: Record<string, string>): AwsTag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function describeToken(record: TokenRecord): string {
  return `OpenClaw gateway token "${record.name}" (${record.environment}), managed by openclaw-token-ops. Read the "token" field of AWSCURRENT.`;
}

function isAws(error: unknown, name: string): boolean {
  return (error as { name?: string })?.name === name;
}

function wrap(operation: string, name: string, error: unknown): Error {
  return error instanceof TokenOpsError ? error : new StoreError(operation, name, error);
}
