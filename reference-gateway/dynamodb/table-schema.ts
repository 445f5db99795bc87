import type { Environment } from "../../src/domain/environments";

/**
 * The front fleet's registry table: the one definition the front and the Pulumi component that creates the table
 * share. No SDK import here, so infra code can import it without pulling in a client.
 *
 * One table per environment; every kind of item lives in it, told apart by its keys (item-keys.ts). No secondary
 * index: every read is a GetItem or a Query on one partition.
 */
export const REGISTRY_TABLE = {
  /** Hash key, type S. */
  partitionKey: "pk",
  /** Range key, type S. */
  sortKey: "sk",
  /** TTL attribute, epoch seconds: request-log entries and per-minute tallies expire by it. */
  ttlAttribute: "ttl",
  billingMode: "PAY_PER_REQUEST",
} as const;

/** The table's name when none is given: `openclaw-front-<env>-registry`. */
export function defaultRegistryTableName(environment: Environment): string {
  return `openclaw-front-${environment}-registry`;
}

/**
 * Every DynamoDB action a front (server and admin CLI) calls, all on the table's own ARN (no index, no Scan):
 * its role needs exactly these. DeleteItem only undoes a half-made token (create-token).
 */
export const FRONT_REGISTRY_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:Query",
  "dynamodb:BatchWriteItem",
] as const;

/** The CreateTable request for the table (for tests and hand-made tables; the TTL is set with UpdateTimeToLive). */
export function registryTableDefinition(tableName: string): {
  TableName: string;
  BillingMode: "PAY_PER_REQUEST";
  AttributeDefinitions: Array<{ AttributeName: string; AttributeType: "S" }>;
  KeySchema: Array<{ AttributeName: string; KeyType: "HASH" | "RANGE" }>;
} {
  return {
    TableName: tableName,
    BillingMode: REGISTRY_TABLE.billingMode,
    AttributeDefinitions: [
      { AttributeName: REGISTRY_TABLE.partitionKey, AttributeType: "S" },
      { AttributeName: REGISTRY_TABLE.sortKey, AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: REGISTRY_TABLE.partitionKey, KeyType: "HASH" },
      { AttributeName: REGISTRY_TABLE.sortKey, KeyType: "RANGE" },
    ],
  };
}

/** The front's identity policy: FRONT_REGISTRY_ACTIONS on the one table, nothing else (an IAM policy document). */
export function frontRegistryPolicyDocument(tableArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "FrontRegistryTable", Effect: "Allow", Action: [...FRONT_REGISTRY_ACTIONS], Resource: tableArn }],
  } as const;
}
