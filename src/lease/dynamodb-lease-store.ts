import type { DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { TokenOpsError } from "../domain/errors";
import { Lease, LeaseStore } from "./lease-store";

export interface DynamoDbLeaseStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  /** Region and endpoint; the SDK also honours AWS_REGION and AWS_ENDPOINT_URL. */
  readonly clientConfig?: DynamoDBClientConfig;
}

/**
 * Leases as DynamoDB items `{pk, owner, expiresAtMs, expiresAt}`, taken with a conditional write: the one
 * compare-and-set AWS offers that survives a crash (the item's expiry frees it; the table's TTL on `expiresAt`
 * deletes old items).
 */
export class DynamoDbLeaseStore implements LeaseStore {
  private readonly client: DynamoDBClient;
  private readonly sdk: typeof import("@aws-sdk/client-dynamodb");

  constructor(private readonly options: DynamoDbLeaseStoreOptions) {
    this.sdk = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    this.client = options.client ?? new this.sdk.DynamoDBClient(options.clientConfig ?? {});
  }

  async acquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | undefined> {
    try {
      return await this.put(key, owner, ttlMs, now, {
        ConditionExpression: "attribute_not_exists(pk) OR expiresAtMs < :now OR #owner = :owner",
        ExpressionAttributeNames: { "#owner": "owner" },
        ExpressionAttributeValues: { ":now": { N: String(now.getTime()) }, ":owner": { S: owner } },
      });
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") return undefined;
      throw this.wrap("take", key, error);
    }
  }

  async takeOver(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease> {
    try {
      return await this.put(key, owner, ttlMs, now, {});
    } catch (error) {
      throw this.wrap("take over", key, error);
    }
  }

  private async put(
    key: string,
    owner: string,
    ttlMs: number,
    now: Date,
    condition: Pick<import("@aws-sdk/client-dynamodb").PutItemCommandInput, "ConditionExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues">,
  ): Promise<Lease> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    await this.client.send(
      new this.sdk.PutItemCommand({
        TableName: this.options.tableName,
        Item: {
          pk: { S: key },
          owner: { S: owner },
          expiresAtMs: { N: String(expiresAt.getTime()) },
          expiresAt: { N: String(Math.ceil(expiresAt.getTime() / 1000) + 86400) },
        },
        ...condition,
      }),
    );
    return { key, owner, expiresAt };
  }

  async release(lease: Lease): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.DeleteItemCommand({
          TableName: this.options.tableName,
          Key: { pk: { S: lease.key } },
          ConditionExpression: "#owner = :owner",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":owner": { S: lease.owner } },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") return;
      throw this.wrap("release", lease.key, error);
    }
  }

  /** Creates the table if it is missing: for local runs and tests (in AWS the stack creates it). */
  async ensureTable(): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.CreateTableCommand({
          TableName: this.options.tableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== "ResourceInUseException") throw this.wrap("create table for", "leases", error);
    }
  }

  private wrap(what: string, key: string, error: unknown): TokenOpsError {
    return new TokenOpsError("lease_failed", `could not ${what} the lease ${key} in table ${this.options.tableName}: ${String(error)}`, {
      cause: error,
      hint: "check that the lease table exists and the rotator's role may read and write it",
    });
  }
}
