import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { createHash } from "node:crypto";
import { isScope, type Scope } from "../../src/domain/scopes";
import type { TokenRecord } from "../token-registry";
import { REGISTRY_TABLE } from "./table-schema";

/**
 * The items of the registry table, by key (pk / sk):
 *
 * | item                          | pk                     | sk                          | ttl |
 * |-------------------------------|------------------------|-----------------------------|-----|
 * | the table's environment       | `meta`                 | `registry`                  |     |
 * | a token record (no value)     | `token`                | token ID                    |     |
 * | lookup ID -> token ID, sha256 | `lookup#<lookupId>`    | `lookup`                    |     |
 * | a token's last use            | `last-used`            | token ID                    |     |
 * | a consumer, all time          | `consumers#<tokenId>`  | consumer                    |     |
 * | a consumer, one minute        | `minutes#<tokenId>`    | `<minute, 10 digits>#<consumer>` | yes |
 * | one request                   | `requests#<tokenId>`   | `<at ISO>#<instance>#<seq>` | yes |
 *
 * Token records share one partition so that the admin list is one Query (no Scan, no index); the lookup item is
 * written once and never changes, so an instance may cache it for good.
 */
export type Item = Record<string, AttributeValue>;

export const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = REGISTRY_TABLE;

export const META_KEY: Item = { [PK]: { S: "meta" }, [SK]: { S: "registry" } };
export const TOKEN_PARTITION = "token";
export const LAST_USED_PARTITION = "last-used";

export const key = (pk: string, sk: string): Item => ({ [PK]: { S: pk }, [SK]: { S: sk } });
export const tokenKey = (id: string): Item => key(TOKEN_PARTITION, id);
export const lookupKey = (lookupId: string): Item => key(`lookup#${lookupId}`, "lookup");
export const lastUsedKey = (tokenId: string): Item => key(LAST_USED_PARTITION, tokenId);
export const consumersPartition = (tokenId: string): string => `consumers#${tokenId}`;
export const minutesPartition = (tokenId: string): string => `minutes#${tokenId}`;
export const requestsPartition = (tokenId: string): string => `requests#${tokenId}`;
/**
 * A consumer in a sort key (at most 1024 bytes): as it is when short, else its sha256. The item keeps the full
 * consumer in an attribute; a long one comes from `<address> <User-Agent>` with a long User-Agent.
 */
export const consumerSortKey = (consumer: string): string =>
  Buffer.byteLength(consumer) <= 512 ? consumer : `~sha256:${createHash("sha256").update(consumer).digest("hex")}`;
/** Minutes since the epoch, zero-padded so that string order is time order. */
export const minuteSortKey = (minute: number): string => String(minute).padStart(10, "0");

export const str = (s: string): AttributeValue => ({ S: s });
export const num = (n: number): AttributeValue => ({ N: String(n) });

export function stringOf(item: Item, name: string): string | undefined {
  const value = item[name];
  return value && "S" in value ? value.S : undefined;
}

export function numberOf(item: Item, name: string): number | undefined {
  const value = item[name];
  return value && "N" in value && value.N !== undefined ? Number(value.N) : undefined;
}

export function recordItem(r: TokenRecord): Item {
  return {
    ...tokenKey(r.id),
    id: str(r.id),
    name: str(r.name),
    scopes: { L: r.scopes.map(str) },
    lookupId: str(r.lookupId),
    sha256: str(r.sha256),
    createdAt: str(r.createdAt),
    ...(r.expiresAt !== null && { expiresAt: str(r.expiresAt) }),
    ...(r.revokedAt !== null && { revokedAt: str(r.revokedAt) }),
    ...(r.suspendedAt && { suspendedAt: str(r.suspendedAt) }),
  };
}

/** A token record item read back; undefined when it lacks a field (written by something else: never trusted). */
export function recordOf(item: Item): TokenRecord | undefined {
  const id = stringOf(item, "id");
  const name = stringOf(item, "name");
  const lookupId = stringOf(item, "lookupId");
  const sha256 = stringOf(item, "sha256");
  const createdAt = stringOf(item, "createdAt");
  const scopes = item.scopes && "L" in item.scopes ? (item.scopes.L ?? []).map((s) => ("S" in s ? s.S : undefined)) : undefined;
  if (!id || !name || !lookupId || !sha256 || !createdAt || !scopes?.every((s): s is Scope => isScope(s))) return undefined;
  return {
    id,
    name,
    scopes,
    lookupId,
    sha256,
    createdAt,
    expiresAt: stringOf(item, "expiresAt") ?? null,
    revokedAt: stringOf(item, "revokedAt") ?? null,
    suspendedAt: stringOf(item, "suspendedAt") ?? null,
  };
}
