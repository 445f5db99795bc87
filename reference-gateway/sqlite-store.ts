import type { Clock } from "../src/domain/clock";
import type { Environment } from "../src/domain/environments";
import type { ConsumerSource } from "./consumers";
import type { GatewayRegistry, RequestLogStore, TokenStore } from "./registry-store";
import { RequestLog, type RequestLogEntry, type RequestQuery } from "./request-log";
import { TokenRegistry } from "./token-registry";
import type { CreateTokenSpec } from "./token-validation";

/**
 * The embedded registry (the default): one registry.sqlite per state dir, behind the store interfaces. Every read
 * first picks up what the admin CLI committed meanwhile (`refresh`: one cheap query), so nothing is ever stale.
 */
export class SqliteTokenStore implements TokenStore {
  readonly #registry: TokenRegistry;

  constructor(registry: TokenRegistry) {
    this.#registry = registry;
  }

  get environment(): Environment {
    return this.#registry.environment;
  }

  async findByValue(value: string) {
    this.#registry.refresh();
    return this.#registry.findByValue(value);
  }

  async findById(id: string) {
    this.#registry.refresh();
    return this.#registry.get(id);
  }

  get(id: string) {
    return this.findById(id);
  }

  async list(filter: { readonly name?: string } = {}) {
    this.#registry.refresh();
    return this.#registry.list({ ...filter });
  }

  create(spec: CreateTokenSpec) {
    return this.#registry.create(spec);
  }

  revoke(id: string) {
    return this.#registry.revoke(id);
  }

  suspend(id: string) {
    return this.#registry.suspend(id);
  }

  reinstate(id: string) {
    return this.#registry.reinstate(id);
  }

  async close(): Promise<void> {
    this.#registry.close();
  }
}

/** The SQLite request log: every request committed when recorded, so reads need no flush. */
export class SqliteRequestLogStore implements RequestLogStore {
  readonly #log: RequestLog;

  constructor(log: RequestLog) {
    this.#log = log;
  }

  record(tokenId: string, entry: RequestLogEntry, authenticated: boolean, consumerSource?: ConsumerSource): void {
    this.#log.record(tokenId, entry, authenticated, consumerSource);
  }

  async entries(tokenId: string, query: RequestQuery) {
    return this.#log.entries(tokenId, query);
  }

  async lastUsedAt(tokenIds: readonly string[]) {
    const used = new Map<string, string>();
    for (const id of tokenIds) {
      const at = this.#log.lastUsedAt(id);
      if (at !== null) used.set(id, at);
    }
    return used;
  }

  async consumers(tokenId: string, sinceMs?: number) {
    return this.#log.consumers(tokenId, sinceMs);
  }

  /** Never: a request is committed before its answer (one instance; a failed write is reported by the server). */
  outage(): undefined {
    return undefined;
  }

  close(): Promise<void> {
    return this.#log.close();
  }
}

/** Opens the state dir's registry (refusing one of another environment) with its request log. */
export async function openSqliteRegistry(stateDir: string, environment: Environment, clock: Clock): Promise<GatewayRegistry> {
  const registry = await TokenRegistry.open(stateDir, environment, clock);
  return { tokens: new SqliteTokenStore(registry), requestLog: new SqliteRequestLogStore(RequestLog.open(registry.db)) };
}

/** An existing state dir's registry in the environment it records (the admin CLI); `expected` refuses another. */
export function openExistingSqliteRegistry(stateDir: string, clock: Clock, expected?: Environment): GatewayRegistry {
  const registry = TokenRegistry.openExisting(stateDir, clock, expected);
  return { tokens: new SqliteTokenStore(registry), requestLog: new SqliteRequestLogStore(RequestLog.open(registry.db)) };
}
