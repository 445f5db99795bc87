import type { Environment } from "../src/domain/environments";
import type { Sensitive } from "../src/domain/sensitive";
import type { ConsumerSource, ConsumerSummary } from "./consumers";
import type { RequestLogEntry, RequestQuery } from "./request-log";
import type { TokenRecord } from "./token-registry";
import type { CreateTokenSpec } from "./token-validation";

/**
 * What the server needs from its token registry, whichever holds it: the embedded SQLite file of one instance
 * (sqlite-store.ts, the default) or a DynamoDB table shared by a fleet of instances (dynamodb/).
 *
 * Two kinds of read: the authentication path (`findByValue`, `findById`) may answer from a per-instance cache no
 * older than the backend's documented bound; the admin path (`get`, `list`) answers from the store as it is now.
 */
export interface TokenStore {
  readonly environment: Environment;
  /** The record a presented token value belongs to (hash compared in constant time), or undefined. */
  findByValue(value: string): Promise<TokenRecord | undefined>;
  /** A record by ID for the authentication path (open WebSocket tunnels), possibly cached. */
  findById(id: string): Promise<TokenRecord | undefined>;
  /** A record by ID as stored now. */
  get(id: string): Promise<TokenRecord | undefined>;
  /** All tokens (any status) in creation order, optionally only those with exactly this name. */
  list(filter?: { readonly name?: string }): Promise<readonly TokenRecord[]>;
  /** Mints a token; the value exists only in the answer, never in the store. */
  create(spec: CreateTokenSpec): Promise<{ record: TokenRecord; value: Sensitive }>;
  /** Revokes (first revokedAt kept); undefined for an unknown ID. */
  revoke(id: string): Promise<TokenRecord | undefined>;
  /** Suspends an active token (first suspendedAt kept); a revoked one is returned unchanged. */
  suspend(id: string): Promise<TokenRecord | undefined>;
  /** Lifts a suspension; a revoked one is returned unchanged. */
  reinstate(id: string): Promise<TokenRecord | undefined>;
  close(): Promise<void>;
}

/**
 * A request log that has held entries it could not write for longer than its bound: the server fails closed
 * (503 to token traffic and to /healthz) so that consumers retry at a front that records them.
 */
export interface RequestLogOutage {
  /** How long the oldest unwritten entries have waited. */
  readonly unwrittenForMs: number;
  /** The bound that was passed. */
  readonly boundMs: number;
  /** What a refused client is told to wait (Retry-After): about one flush, when this front may have recovered. */
  readonly retryAfterSeconds: number;
}

/** The per-token request history and aggregates the rotator reads (docs/gateway-api.md, request log). */
export interface RequestLogStore {
  /** Records one request; never throws for a store that buffers (its flush reports trouble on stderr). */
  record(tokenId: string, entry: RequestLogEntry, authenticated: boolean, consumerSource?: ConsumerSource): void;
  /** The most recent `limit` entries strictly after `sinceMs`, oldest first. */
  entries(tokenId: string, query: RequestQuery): Promise<RequestLogEntry[]>;
  /** When each of these tokens last made a request while active; a token never used is absent. */
  lastUsedAt(tokenIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** The token's distinct consumers, most recently seen first; with `sinceMs`, the tallies of that window. */
  consumers(tokenId: string, sinceMs?: number): Promise<ConsumerSummary[]>;
  /** Undefined while requests are being recorded; the outage once unwritten entries are older than the bound. */
  outage(): RequestLogOutage | undefined;
  /** Writes what is pending and stops. */
  close(): Promise<void>;
}

/** One registry: its tokens and its request log, opened and closed together. */
export interface GatewayRegistry {
  readonly tokens: TokenStore;
  readonly requestLog: RequestLogStore;
}
