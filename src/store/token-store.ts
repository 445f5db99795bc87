import { Environment } from "../domain/environments";
import { TokenRecord } from "./record";

/** Secrets Manager's version stages, which any Secrets Manager client or caching library understands. */
export const Stage = {
  Current: "AWSCURRENT",
  Pending: "AWSPENDING",
  Previous: "AWSPREVIOUS",
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

/** A managed secret as the store describes it, without its value. */
export interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  /** For people and IAM conditions only: nothing is decided from tags (docs/threat-model.md). */
  readonly tags: Readonly<Record<string, string>>;
  /** Which version holds each stage. */
  readonly stages: Readonly<Partial<Record<Stage, string>>>;
  /** Set when the secret is scheduled for deletion. */
  readonly deletedAt: Date | undefined;
}

export interface DeleteOptions {
  /** Days Secrets Manager keeps the secret recoverable (7 to 30), or 0 to delete at once. */
  readonly recoveryWindowDays: number;
}

/**
 * Where token values live. Secrets Manager implements it (secrets-manager-store.ts); a second store (Vault, say)
 * is one more implementation. Every store is bound to one environment and refuses to touch another's secrets.
 */
export interface TokenStore {
  readonly environment: Environment;

  /**
   * The secret's name for a name or an ARN (Secrets Manager's rotation events name the secret by ARN), checked to be in
   * this store's namespace.
   */
  resolveName(secretId: string): Promise<string>;

  /** The secret's description, or undefined if there is no such secret. */
  describe(name: string): Promise<StoredSecret | undefined>;

  /** The record in one version (by stage or version ID), or undefined if no version has it. */
  read(name: string, version: Stage | { versionId: string }): Promise<TokenRecord | undefined>;

  /**
   * Creates the secret with `record` as AWSCURRENT in version `versionId`, tagged with the token's identity. Fails if a
   * secret of that name exists.
   */
  create(name: string, versionId: string, record: TokenRecord): Promise<StoredSecret>;

  /** Tags an existing secret with a token's identity (an adopted secret made by hand may lack them). */
  tagIdentity(name: string, environment: Environment, tokenName: string): Promise<void>;

  /** Cancels a scheduled deletion. */
  restore(name: string): Promise<void>;

  /**
   * Writes `record` as version `versionId` with the given stages. Idempotent: writing the same version again is a
   * no-op, so a resumed step can simply repeat it.
   */
  putVersion(name: string, versionId: string, record: TokenRecord, stages: readonly Stage[]): Promise<void>;

  /** Moves `stage` to `toVersionId` (from `fromVersionId`, as Secrets Manager requires when the stage is set). */
  moveStage(name: string, stage: Stage, toVersionId: string, fromVersionId: string | undefined): Promise<void>;

  /** Removes `stage` from a version. */
  removeStage(name: string, stage: Stage, fromVersionId: string): Promise<void>;

  delete(name: string, options: DeleteOptions): Promise<void>;
}
