import { TokenRecord } from "./record";
import { Stage, TokenStore } from "./token-store";

/**
 * Writes `record` as a new version and makes it AWSCURRENT (the version that was current becomes AWSPREVIOUS).
 * Done as "stage as AWSPENDING, then move AWSCURRENT", the same two moves a rotation makes, rather than a single
 * PutSecretValue naming AWSCURRENT: moto (5.2.5) leaves AWSCURRENT on two versions after that call once
 * UpdateSecretVersionStage has moved the stage before, and one path for every promotion is easier to trust.
 */
export async function writeAsCurrent(
  store: TokenStore,
  secretName: string,
  versionId: string,
  record: TokenRecord,
  currentVersionId: string | undefined,
): Promise<void> {
  await store.putVersion(secretName, versionId, record, [Stage.Pending]);
  await store.moveStage(secretName, Stage.Current, versionId, currentVersionId);
  await store.removeStage(secretName, Stage.Pending, versionId);
}
