import type { AttributeValue, DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { Environment } from "../domain/environments";
import { Declaration, Ledger, LedgerConflictError, LedgerEntry, LedgerError, LeaseRecord, RotationState } from "./ledger";
import { parseDeclaration, parseLease, parseState, serialiseDeclaration, serialiseLease, serialiseState } from "./serialise";

export interface DynamoDbLedgerOptions {
  readonly tableName: string;
  /** The environment this ledger serves: an entry of another environment is refused when read. */
  readonly environment: Environment;
  readonly client?: DynamoDBClient;
  /** Region and endpoint; the SDK also honours AWS_REGION and AWS_ENDPOINT_URL. */
  readonly clientConfig?: DynamoDBClientConfig;
}

/** The index a scheduled run queries: every entry is in bucket "due", sorted by when it next needs a look. */
export const DUE_INDEX = "due-index";
const DUE_BUCKET = "due";

/**
 * The ledger as one DynamoDB item per token:
 *   pk (secret name) | version (N) | declaration (S, JSON) | state (S, JSON) | lease (S, JSON, optional)
 *   | environment (S) | dueBucket (S) + nextCheckAtMs (N): the keys of the sparse GSI "due-index" (KEYS_ONLY)
 * Top-level attributes keep the writers' rights apart: the rotator's UpdateItem touches only state, lease, version and
 * nextCheckAtMs, so an IAM condition on dynamodb:Attributes can deny it the declaration.
 */
export class DynamoDbLedger implements Ledger {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly sdk: typeof import("@aws-sdk/client-dynamodb");

  constructor(private readonly options: DynamoDbLedgerOptions) {
    this.sdk = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    this.client = options.client ?? new this.sdk.DynamoDBClient(options.clientConfig ?? {});
    this.tableName = options.tableName;
  }

  async get(secretName: string): Promise<LedgerEntry | undefined> {
    const out = await this.call("GetItem", () =>
      this.client.send(new this.sdk.GetItemCommand({ TableName: this.tableName, Key: { pk: { S: secretName } }, ConsistentRead: true })),
    );
    return out.Item ? this.toEntry(out.Item) : undefined;
  }

  async create(entry: Omit<LedgerEntry, "version">): Promise<LedgerEntry> {
    const created: LedgerEntry = { ...entry, version: 1 };
    await this.conditional(entry.declaration.secretName, undefined, () =>
      this.client.send(
        new this.sdk.PutItemCommand({
          TableName: this.tableName,
          Item: this.toItem(created),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
    return created;
  }

  async writeState(entry: LedgerEntry, state: RotationState, lease: LeaseRecord | undefined): Promise<LedgerEntry> {
    const next: LedgerEntry = { ...entry, state, lease, version: entry.version + 1 };
    const values: Record<string, AttributeValue> = {
      ":expected": { N: String(entry.version) },
      ":version": { N: String(next.version) },
      ":state": { S: serialiseState(state) },
      ":next": { N: String(state.nextCheckAt.getTime()) },
      ":bucket": { S: DUE_BUCKET },
    };
    if (lease) values[":lease"] = { S: serialiseLease(lease) };
    await this.conditional(entry.declaration.secretName, entry.version, () =>
      this.client.send(
        new this.sdk.UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: entry.declaration.secretName } },
          UpdateExpression: `SET #state = :state, #version = :version, nextCheckAtMs = :next, dueBucket = :bucket${lease ? ", #lease = :lease" : ""}${lease ? "" : " REMOVE #lease"}`,
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#state": "state", "#version": "version", "#lease": "lease" },
          ExpressionAttributeValues: values,
        }),
      ),
    );
    return next;
  }

  async writeAll(entry: LedgerEntry, declaration: Declaration, state: RotationState, lease: LeaseRecord | undefined): Promise<LedgerEntry> {
    const next: LedgerEntry = { declaration, state, lease, version: entry.version + 1 };
    await this.conditional(entry.declaration.secretName, entry.version, () =>
      this.client.send(
        new this.sdk.PutItemCommand({
          TableName: this.tableName,
          Item: this.toItem(next),
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":expected": { N: String(entry.version) } },
        }),
      ),
    );
    return next;
  }

  async delete(entry: LedgerEntry): Promise<void> {
    await this.conditional(entry.declaration.secretName, entry.version, () =>
      this.client.send(
        new this.sdk.DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: entry.declaration.secretName } },
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":expected": { N: String(entry.version) } },
        }),
      ),
    );
  }

  async *due(now: Date): AsyncIterable<LedgerEntry> {
    yield* this.queryIndex("dueBucket = :bucket AND nextCheckAtMs <= :now", { ":now": { N: String(now.getTime()) } });
  }

  async *list(): AsyncIterable<LedgerEntry> {
    // Every entry is in the due index's one bucket: a Query of all of it lists the ledger without a Scan, which no
    // role is granted (a Scan would read whatever else a table held).
    yield* this.queryIndex("dueBucket = :bucket", {});
  }

  /**
   * The entries a query of the due index names. The index is eventually consistent and holds keys only: each hit is
   * read again, consistently, before use.
   */
  private async *queryIndex(keyCondition: string, values: Record<string, AttributeValue>): AsyncIterable<LedgerEntry> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.call("Query", () =>
        this.client.send(
          new this.sdk.QueryCommand({
            TableName: this.tableName,
            IndexName: DUE_INDEX,
            KeyConditionExpression: keyCondition,
            ExpressionAttributeValues: { ":bucket": { S: DUE_BUCKET }, ...values },
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const key of page.Items ?? []) {
        const entry = await this.get(key.pk?.S ?? "");
        if (entry) yield entry;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Creates the table and its index if missing: for local runs and tests (in AWS the rotator's deployment does). */
  async ensureTable(): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.CreateTableCommand({
          TableName: this.tableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: "pk", AttributeType: "S" },
            { AttributeName: "dueBucket", AttributeType: "S" },
            { AttributeName: "nextCheckAtMs", AttributeType: "N" },
          ],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
          GlobalSecondaryIndexes: [
            {
              IndexName: DUE_INDEX,
              KeySchema: [
                { AttributeName: "dueBucket", KeyType: "HASH" },
                { AttributeName: "nextCheckAtMs", KeyType: "RANGE" },
              ],
              Projection: { ProjectionType: "KEYS_ONLY" },
            },
          ],
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== "ResourceInUseException") throw new LedgerError("CreateTable", this.tableName, error);
    }
  }

  private toItem(entry: LedgerEntry): Record<string, AttributeValue> {
    return {
      pk: { S: entry.declaration.secretName },
      version: { N: String(entry.version) },
      environment: { S: entry.declaration.environment },
      declaration: { S: serialiseDeclaration(entry.declaration) },
      state: { S: serialiseState(entry.state) },
      ...(entry.lease ? { lease: { S: serialiseLease(entry.lease) } } : {}),
      dueBucket: { S: DUE_BUCKET },
      nextCheckAtMs: { N: String(entry.state.nextCheckAt.getTime()) },
    };
  }

  private toEntry(item: Record<string, AttributeValue>): LedgerEntry {
    const key = item.pk?.S ?? "?";
    const declaration = parseDeclaration(item.declaration?.S, key);
    if (declaration.environment !== this.options.environment) {
      throw new LedgerError("read", this.tableName, new Error(`entry ${key} belongs to ${declaration.environment}, not ${this.options.environment}`));
    }
    return {
      declaration,
      state: parseState(item.state?.S, key),
      lease: item.lease?.S ? parseLease(item.lease.S, key) : undefined,
      version: Number(item.version?.N ?? "0"),
    };
  }

  private async conditional(secretName: string, expectedVersion: number | undefined, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") throw new LedgerConflictError(secretName, expectedVersion);
      throw new LedgerError("write", this.tableName, error);
    }
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new LedgerError(operation, this.tableName, error);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
