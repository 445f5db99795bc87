import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../src/domain/clock";
import type { Environment } from "../../src/domain/environments";
import type { Sensitive } from "../../src/domain/sensitive";
import { StateError } from "../errors";
import type { TokenStore } from "../registry-store";
import { newTokenRecord, type TokenRecord } from "../token-registry";
import { lookupIdOf, mintTokenValue, valueMatchesHash } from "../token-value";
import type { CreateTokenSpec } from "../token-validation";
import { registryTableError } from "./table-error";
import { lookupKey, PK, recordItem, recordOf, str, stringOf, TOKEN_PARTITION, tokenKey, type Item } from "./items";

/**
 * How long an instance serves a token record from its cache before reading it again. This bounds how long
 * another instance's revocation or suspension can go unseen here (docs/self-hosted-openclaw.md, "Fleet of fronts").
 */
export const DEFAULT_RECORD_CACHE_MS = 2_000;
/** Records cached per instance; the oldest is dropped beyond this. */
const MAX_CACHED_RECORDS = 100_000;

export interface DynamoDbTokenStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly environment: Environment;
  readonly clock: Clock;
  /** @default DEFAULT_RECORD_CACHE_MS */
  readonly recordCacheMs?: number;
  /** Destroy the client on close (it was made for this registry). @default false */
  readonly ownsClient?: boolean;
}

interface Cached {
  readonly record: TokenRecord | undefined;
  /** performance.now() when read: the gateway's adjustable clock must not stretch the bound. */
  readonly readAt: number;
}

/**
 * Token records in the fleet's table. Every write is conditional (a create never overwrites, a revocation keeps
 * the first revokedAt, nothing resurrects a revoked token). Reads on the authentication path come from a
 * per-instance cache at most `recordCacheMs` old, and a miss always reads through (consistently), so a token
 * created at another instance is accepted at once and one revoked there is refused here within the bound.
 */
export class DynamoDbTokenStore implements TokenStore {
  readonly environment: Environment;
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #ownsClient: boolean;
  readonly #records = new Map<string, Cached>();
  /** lookup ID -> token ID and hash: written once, never changed, so cached for good. */
  readonly #lookups = new Map<string, { tokenId: string; sha256: string }>();
  /** One read per record at a time, however many requests wait for it. */
  readonly #reading = new Map<string, Promise<TokenRecord | undefined>>();

  constructor(options: DynamoDbTokenStoreOptions) {
    this.environment = options.environment;
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock;
    this.#cacheMs = options.recordCacheMs ?? DEFAULT_RECORD_CACHE_MS;
    this.#ownsClient = options.ownsClient ?? false;
  }

  async findByValue(value: string): Promise<TokenRecord | undefined> {
    const lookupId = lookupIdOf(value, this.environment);
    if (lookupId === undefined) return undefined;
    let lookup = this.#lookups.get(lookupId);
    if (lookup === undefined) {
      const item = await this.#getItem(lookupKey(lookupId));
      const tokenId = item && stringOf(item, "tokenId");
      const sha256 = item && stringOf(item, "sha256");
      if (!tokenId || !sha256) return undefined;
      lookup = { tokenId, sha256 };
      if (this.#lookups.size >= MAX_CACHED_RECORDS) this.#lookups.delete(this.#lookups.keys().next().value as string);
      this.#lookups.set(lookupId, lookup);
    }
    if (!valueMatchesHash(value, lookup.sha256)) return undefined;
    const record = await this.findById(lookup.tokenId);
    // The record's own hash decides: a lookup item can never make a value match another token.
    return record && record.lookupId === lookupId && valueMatchesHash(value, record.sha256) ? record : undefined;
  }

  async findById(id: string): Promise<TokenRecord | undefined> {
    const cached = this.#records.get(id);
    if (cached && performance.now() - cached.readAt < this.#cacheMs) return cached.record;
    let reading = this.#reading.get(id);
    if (!reading) {
      reading = this.get(id).finally(() => this.#reading.delete(id));
      this.#reading.set(id, reading);
    }
    return reading;
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const readAt = performance.now();
    const item = await this.#getItem(tokenKey(id));
    const record = item && recordOf(item);
    this.#remember(id, record, readAt);
    return record;
  }

  async list(filter: { readonly name?: string } = {}): Promise<readonly TokenRecord[]> {
    const records: TokenRecord[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.#call("list the tokens", (c) =>
        c.send(
          new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": PK },
          ExpressionAttributeValues: { ":pk": str(TOKEN_PARTITION) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const record = recordOf(item);
        if (record && (filter.name === undefined || record.name === filter.name)) records.push(record);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Creation order, as the embedded registry lists them.
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * The lookup item first (its condition keeps lookup IDs unique), then the record; if the record cannot be
   * written the lookup item is deleted again, and an orphan left by a crash between the two matches nothing.
   */
  async create(spec: CreateTokenSpec): Promise<{ record: TokenRecord; value: Sensitive }> {
    for (;;) {
      const minted = mintTokenValue(this.environment);
      const record = newTokenRecord(spec, minted, this.#clock.now());
      const lookupItem = { ...lookupKey(record.lookupId), tokenId: str(record.id), sha256: str(record.sha256) };
      // 72 random bits make a collision all but impossible; the condition makes one harmless.
      if (!(await this.#putNew(lookupItem, "write a token's lookup item"))) continue;
      try {
        if (!(await this.#putNew(recordItem(record), "write a token record"))) throw new StateError(`token ID ${record.id} already exists`);
      } catch (error) {
        await this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: lookupKey(record.lookupId) })).catch(() => undefined);
        throw error;
      }
      this.#remember(record.id, record, performance.now());
      return { record, value: minted.value };
    }
  }

  revoke(id: string): Promise<TokenRecord | undefined> {
    return this.#change(id, "SET revokedAt = :now", "attribute_not_exists(revokedAt)", true);
  }

  suspend(id: string): Promise<TokenRecord | undefined> {
    return this.#change(id, "SET suspendedAt = :now", "attribute_not_exists(revokedAt) AND attribute_not_exists(suspendedAt)", true);
  }

  reinstate(id: string): Promise<TokenRecord | undefined> {
    return this.#change(id, "REMOVE suspendedAt", "attribute_not_exists(revokedAt)", false);
  }

  async close(): Promise<void> {
    this.#records.clear();
    this.#lookups.clear();
    if (this.#ownsClient) this.#client.destroy();
  }

  /**
   * One conditional update of an existing record. When the condition fails (unknown, or already in that state),
   * the record as stored is returned unchanged, as the embedded registry does.
   */
  async #change(id: string, update: string, condition: string, stamped: boolean): Promise<TokenRecord | undefined> {
    try {
      const result = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: tokenKey(id),
          UpdateExpression: update,
          ConditionExpression: `attribute_exists(#pk) AND ${condition}`,
          ExpressionAttributeNames: { "#pk": PK },
          ...(stamped && { ExpressionAttributeValues: { ":now": str(this.#clock.now().toISOString()) } }),
          ReturnValues: "ALL_NEW",
        }),
      );
      const record = result.Attributes && recordOf(result.Attributes);
      this.#remember(id, record, performance.now());
      return record;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.get(id);
      throw this.#stateError("update a token record", error);
    }
  }

  async #putNew(item: Item, what: string): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({ TableName: this.#table, Item: item, ConditionExpression: "attribute_not_exists(#pk)", ExpressionAttributeNames: { "#pk": PK } }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw this.#stateError(what, error);
    }
  }

  async #getItem(key: Item): Promise<Item | undefined> {
    const result = await this.#call("read a token", (c) => c.send(new GetItemCommand({ TableName: this.#table, Key: key, ConsistentRead: true })));
    return result.Item;
  }

  #remember(id: string, record: TokenRecord | undefined, readAt: number): void {
    this.#records.delete(id);
    if (this.#records.size >= MAX_CACHED_RECORDS) this.#records.delete(this.#records.keys().next().value as string);
    this.#records.set(id, { record, readAt });
  }

  /** Runs one call on the table; any failure becomes a StateError naming the table and the fix. */
  async #call<T>(what: string, call: (client: DynamoDBClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.#client);
    } catch (error) {
      throw this.#stateError(what, error);
    }
  }

  #stateError(what: string, cause: unknown): StateError {
    return registryTableError(this.#table, what, cause);
  }
}
