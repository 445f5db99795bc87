import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../src/domain/clock";
import { isEnvironment, type Environment } from "../../src/domain/environments";
import { EnvironmentMismatchError } from "../../src/domain/errors";
import { StateError } from "../errors";
import type { GatewayRegistry } from "../registry-store";
import { META_KEY, numberOf, num, PK, str, stringOf } from "./items";
import { DynamoDbRequestLog } from "./request-log-store";
import { registryTableError } from "./table-error";
import { DynamoDbTokenStore } from "./token-store";

/** Bump when the items change shape; a table written by a newer front is refused rather than misread. */
const TABLE_SCHEMA_VERSION = 1;

export interface DynamoDbRegistryOptions {
  /** `--registry-table`: the fleet's table (table-schema.ts), created beforehand (Pulumi component or by hand). */
  readonly tableName: string;
  readonly environment: Environment;
  readonly clock: Clock;
  /** @default a client from the SDK's environment (AWS_REGION, AWS_ENDPOINT_URL, credentials chain) */
  readonly client?: DynamoDBClient;
  /** How long a token record may be served from this instance's cache. @default DEFAULT_RECORD_CACHE_MS (2 s) */
  readonly recordCacheMs?: number;
  /** @default DEFAULT_FLUSH_INTERVAL_MS (1 s) */
  readonly flushIntervalMs?: number;
  /** @default DEFAULT_FLUSH_ENTRIES (250) */
  readonly flushEntries?: number;
}

/**
 * Opens the fleet's registry in a DynamoDB table: claims the table for `environment` on first use (a conditional
 * write of its meta item) and refuses a table that records another environment, as the embedded registry
 * refuses another environment's state dir.
 */
export async function openDynamoDbRegistry(options: DynamoDbRegistryOptions): Promise<GatewayRegistry> {
  const ownsClient = options.client === undefined;
  const client = options.client ?? new DynamoDBClient({});
  try {
    await claimTable(client, options.tableName, options.environment);
  } catch (error) {
    if (ownsClient) client.destroy();
    throw error;
  }
  const { tableName, clock } = options;
  const tokens = new DynamoDbTokenStore({
    client,
    tableName,
    environment: options.environment,
    clock,
    recordCacheMs: options.recordCacheMs,
    ownsClient,
  });
  const requestLog = new DynamoDbRequestLog({ client, tableName, clock, flushIntervalMs: options.flushIntervalMs, flushEntries: options.flushEntries });
  // The request log shares the client; the server closes (flushes) it before the token store.
  return { tokens, requestLog };
}

/** The environment a table records, writing `environment` there first if it records none. */
async function claimTable(client: DynamoDBClient, table: string, environment: Environment): Promise<void> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...META_KEY, environment: str(environment), schemaVersion: num(TABLE_SCHEMA_VERSION) },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PK },
      }),
    );
    return;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw registryTableError(table, "claim the registry table", error);
  }
  let meta;
  try {
    meta = (await client.send(new GetItemCommand({ TableName: table, Key: META_KEY, ConsistentRead: true }))).Item;
  } catch (error) {
    throw registryTableError(table, "read the registry table's environment", error);
  }
  const recorded = meta && stringOf(meta, "environment");
  if (!isEnvironment(recorded)) throw new StateError(`DynamoDB table ${table} records an unknown environment ${JSON.stringify(recorded)}`);
  if (recorded !== environment) {
    throw new EnvironmentMismatchError(
      `DynamoDB table ${table} belongs to environment "${recorded}", not "${environment}"`,
      `use --environment ${recorded}, or the ${environment} table (openclaw-front-${environment}-registry): environments never share tokens`,
    );
  }
  const version = (meta && numberOf(meta, "schemaVersion")) ?? 0;
  if (version > TABLE_SCHEMA_VERSION) {
    throw new StateError(`DynamoDB table ${table} has schema ${version}, newer than this front understands (${TABLE_SCHEMA_VERSION})`, {
      hint: "run the front version that wrote it, or a newer one",
    });
  }
}
