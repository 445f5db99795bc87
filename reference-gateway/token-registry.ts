import type { Clock } from "../src/domain/clock";
import { isEnvironment, type Environment } from "../src/domain/environments";
import { EnvironmentMismatchError } from "../src/domain/errors";
import { isScope, type Scope } from "../src/domain/scopes";
import type { Sensitive } from "../src/domain/sensitive";
import { existsSync } from "node:fs";
import type { DatabaseSync } from "node:sqlite";
import { StateError } from "./errors";
import { inTransaction, openRegistryDatabase, readLegacyTokensFile } from "./registry-db";
import { ensureStateDir, statePaths, type StatePaths } from "./state-dir";
import { lookupIdOf, mintTokenValue, newTokenId, valueMatchesHash } from "./token-value";
import type { CreateTokenSpec } from "./token-validation";

/** One token as stored in the registry: metadata and the sha256 of the value, never the value itself. */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** The 12 characters after the prefix; public, so a presented value finds its record without a scan. */
  readonly lookupId: string;
  /** Hex sha256 of the full token value. */
  readonly sha256: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  /** Set while the token is suspended (refused, but reinstatable); absent in files written before suspension existed. */
  readonly suspendedAt?: string | null;
}

export const TokenStatus = { Active: "active", Revoked: "revoked", Expired: "expired", Suspended: "suspended" } as const;
export type TokenStatus = (typeof TokenStatus)[keyof typeof TokenStatus];

/** The metadata object of the contract: what every admin endpoint and `auth list --json` return. */
export interface TokenMetadata {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly suspendedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly status: TokenStatus;
}

/** tokens.json of earlier versions, imported once into the database. */
interface TokensFile {
  readonly version: 1;
  readonly environment: Environment;
  readonly tokens: readonly TokenRecord[];
}

/** A new token's record, as either registry stores it: its metadata and the hash of the value just minted. */
export function newTokenRecord(spec: CreateTokenSpec, minted: { readonly lookupId: string; readonly sha256: string }, now: Date): TokenRecord {
  return {
    id: newTokenId(),
    name: spec.name,
    scopes: spec.scopes,
    lookupId: minted.lookupId,
    sha256: minted.sha256,
    createdAt: now.toISOString(),
    expiresAt: spec.expiresAtMs === null ? null : new Date(spec.expiresAtMs).toISOString(),
    revokedAt: null,
    suspendedAt: null,
  };
}

/**
 * Revocation wins over expiry, expiry over suspension: a revoked token stays "revoked" whatever its expiry, and
 * an expired token cannot be brought back by reinstating it.
 */
export function tokenStatus(record: TokenRecord, nowMs: number): TokenStatus {
  if (record.revokedAt !== null) return TokenStatus.Revoked;
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= nowMs) return TokenStatus.Expired;
  if (record.suspendedAt) return TokenStatus.Suspended;
  return TokenStatus.Active;
}

export function toMetadata(record: TokenRecord, lastUsedAt: string | null, nowMs: number): TokenMetadata {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    suspendedAt: record.suspendedAt ?? null,
    lastUsedAt,
    status: tokenStatus(record, nowMs),
  };
}

/**
 * The tokens of one state dir, for one environment, in its registry database (registry-db.ts). Lookups are
 * served from an in-memory copy, refreshed when another connection (the admin CLI) has committed a change:
 * `PRAGMA data_version` tells, one cheap query per request.
 */
export class TokenRegistry {
  readonly environment: Environment;
  readonly paths: StatePaths;
  /** The registry database, shared with the request log of the same process. */
  readonly db: DatabaseSync;
  readonly #clock: Clock;
  #dataVersion = -1;
  #records: TokenRecord[] = [];
  /** Index of each token in #records. */
  #indexById = new Map<string, number>();
  #byLookupId = new Map<string, TokenRecord>();

  private constructor(paths: StatePaths, environment: Environment, clock: Clock, db: DatabaseSync) {
    this.paths = paths;
    this.environment = environment;
    this.#clock = clock;
    this.db = db;
  }

  /**
   * Opens (and on first use initialises) the state dir for `environment`. Refuses a dir that belongs to
   * another environment: a dev gateway must never mint or accept tokens kept with prod ones. A state dir of an
   * earlier version (tokens.json) is imported into the database once; tokens.json is then left as it was.
   */
  static async open(stateDir: string, environment: Environment, clock: Clock): Promise<TokenRegistry> {
    ensureStateDir(stateDir);
    const paths = statePaths(stateDir);
    const db = openRegistryDatabase(paths.database);
    try {
      inTransaction(db, () => {
        const recorded = environmentOf(db);
        if (recorded === undefined) {
          const legacy = readLegacyTokensFile(paths.tokens);
          const imported = legacy === undefined ? undefined : parseTokensFile(legacy, paths.tokens);
          if (imported && imported.environment !== environment) throw environmentMismatch(stateDir, imported.environment, environment);
          db.prepare("INSERT INTO meta (key, value) VALUES ('environment', ?)").run(environment);
          for (const record of imported?.tokens ?? []) insertRecord(db, record);
        } else if (recorded !== environment) {
          throw environmentMismatch(stateDir, recorded, environment);
        }
      });
    } catch (error) {
      db.close();
      throw error;
    }
    const registry = new TokenRegistry(paths, environment, clock, db);
    registry.refresh();
    return registry;
  }

  /**
   * Opens an existing state dir in the environment it records (for `auth revoke` and `auth list`); with
   * `expected`, refuses a dir of another environment.
   */
  static openExisting(stateDir: string, clock: Clock, expected?: Environment): TokenRegistry {
    const paths = statePaths(stateDir);
    const noState = () =>
      new StateError(`no token registry in ${stateDir}`, {
        hint: "pass the --state-dir of a gateway, or create a first token with `auth create-token`",
      });
    if (!existsSync(paths.database)) {
      if (!existsSync(paths.tokens)) throw noState();
      // A state dir of an earlier version: import it (the environment it records).
      const legacy = parseTokensFile(readLegacyTokensFile(paths.tokens) ?? "", paths.tokens);
      if (expected !== undefined && legacy.environment !== expected) throw environmentMismatch(stateDir, legacy.environment, expected);
    }
    const db = openRegistryDatabase(paths.database);
    let environment = environmentOf(db);
    if (environment === undefined) {
      const legacy = readLegacyTokensFile(paths.tokens);
      if (legacy === undefined) {
        db.close();
        throw noState();
      }
      const parsed = parseTokensFile(legacy, paths.tokens);
      environment = parsed.environment;
      inTransaction(db, () => {
        db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('environment', ?)").run(parsed.environment);
        for (const record of parsed.tokens) insertRecord(db, record);
      });
    }
    if (expected !== undefined && environment !== expected) {
      db.close();
      throw environmentMismatch(stateDir, environment, expected);
    }
    const registry = new TokenRegistry(paths, environment, clock, db);
    registry.refresh();
    return registry;
  }

  /** Reloads the tokens if another connection changed them. Throws StateError when the database cannot be read. */
  refresh(): void {
    let version: number;
    try {
      version = (this.db.prepare("PRAGMA data_version").get() as { data_version: number }).data_version;
    } catch (cause) {
      throw new StateError(`cannot read ${this.paths.database}: ${(cause as Error).message}`, { cause });
    }
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    this.#load(selectRecords(this.db));
  }

  /**
   * The record a presented token value belongs to, or undefined if none does. Finds the candidate by its
   * lookup id, then compares sha256 digests in constant time.
   */
  findByValue(value: string): TokenRecord | undefined {
    const lookupId = lookupIdOf(value, this.environment);
    const candidate = lookupId === undefined ? undefined : this.#byLookupId.get(lookupId);
    return candidate && valueMatchesHash(value, candidate.sha256) ? candidate : undefined;
  }

  get(id: string): TokenRecord | undefined {
    const index = this.#indexById.get(id);
    return index === undefined ? undefined : this.#records[index];
  }

  /** All tokens (any status) in creation order, optionally only those with exactly this name. */
  list(filter: { name?: string } = {}): readonly TokenRecord[] {
    return filter.name === undefined ? this.#records : this.#records.filter((r) => r.name === filter.name);
  }

  /** Mints a token. The returned value exists only here: it is never stored, only its hash. */
  async create(spec: CreateTokenSpec): Promise<{ record: TokenRecord; value: Sensitive }> {
    return this.#mutate(() => {
      const taken = this.db.prepare("SELECT 1 FROM tokens WHERE lookup_id = ?");
      let minted = mintTokenValue(this.environment);
      // 72 random bits make a collision all but impossible; checking costs nothing and keeps lookup unique.
      while (taken.get(minted.lookupId) !== undefined) minted = mintTokenValue(this.environment);
      const record = newTokenRecord(spec, minted, this.#clock.now());
      insertRecord(this.db, record);
      return { record, value: minted.value };
    });
  }

  /** Revokes a token; revoking twice keeps the first revokedAt. Undefined for an unknown id. */
  async revoke(id: string): Promise<TokenRecord | undefined> {
    return this.#mutate(() => {
      this.db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(this.#clock.now().toISOString(), id);
      return selectRecord(this.db, id);
    });
  }

  /**
   * Suspends a token: refused with 401 token_suspended until reinstated. Suspending twice keeps the first
   * suspendedAt. Undefined for an unknown id; a revoked token is left as it is (the caller checks revokedAt).
   */
  async suspend(id: string): Promise<TokenRecord | undefined> {
    return this.#mutate(() => {
      this.db
        .prepare("UPDATE tokens SET suspended_at = ? WHERE id = ? AND revoked_at IS NULL AND suspended_at IS NULL")
        .run(this.#clock.now().toISOString(), id);
      return selectRecord(this.db, id);
    });
  }

  /** Lifts a suspension; a no-op on a token that is not suspended. Undefined for an unknown id. */
  async reinstate(id: string): Promise<TokenRecord | undefined> {
    return this.#mutate(() => {
      this.db.prepare("UPDATE tokens SET suspended_at = NULL WHERE id = ? AND revoked_at IS NULL").run(id);
      return selectRecord(this.db, id);
    });
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /**
   * One write transaction, then the in-memory copy: reloaded in full if another connection committed
   * meanwhile, else just the changed record (a full reload per change would make bulk creation quadratic).
   */
  async #mutate<T extends { record: TokenRecord } | TokenRecord | undefined>(change: () => T): Promise<T> {
    this.refresh();
    const result = inTransaction(this.db, change);
    const changed = result === undefined ? undefined : "record" in result ? (result.record as TokenRecord) : (result as TokenRecord);
    if (changed) this.#apply(changed);
    return result;
  }

  #apply(record: TokenRecord): void {
    const index = this.#indexById.get(record.id);
    if (index === undefined) {
      this.#indexById.set(record.id, this.#records.length);
      this.#records.push(record);
    } else {
      this.#records[index] = record;
    }
    this.#byLookupId.set(record.lookupId, record);
  }

  #load(records: readonly TokenRecord[]): void {
    this.#records = [...records];
    this.#indexById = new Map(records.map((r, i) => [r.id, i]));
    this.#byLookupId = new Map(records.map((r) => [r.lookupId, r]));
  }
}

interface TokenRow {
  id: string;
  name: string;
  scopes: string;
  lookup_id: string;
  sha256: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  suspended_at: string | null;
}

function fromRow(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    lookupId: row.lookup_id,
    sha256: row.sha256,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    suspendedAt: row.suspended_at,
  };
}

function selectRecords(db: DatabaseSync): TokenRecord[] {
  return (db.prepare("SELECT * FROM tokens ORDER BY seq").all() as unknown as TokenRow[]).map(fromRow);
}

function selectRecord(db: DatabaseSync, id: string): TokenRecord | undefined {
  const row = db.prepare("SELECT * FROM tokens WHERE id = ?").get(id) as unknown as TokenRow | undefined;
  return row && fromRow(row);
}

function insertRecord(db: DatabaseSync, r: TokenRecord): void {
  db.prepare(
    "INSERT INTO tokens (id, name, scopes, lookup_id, sha256, created_at, expires_at, revoked_at, suspended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(r.id, r.name, JSON.stringify(r.scopes), r.lookupId, r.sha256, r.createdAt, r.expiresAt, r.revokedAt, r.suspendedAt ?? null);
}

function environmentOf(db: DatabaseSync): Environment | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'environment'").get() as { value: string } | undefined;
  if (row === undefined) return undefined;
  if (!isEnvironment(row.value)) throw new StateError(`the registry records an unknown environment ${JSON.stringify(row.value)}`);
  return row.value;
}

function environmentMismatch(dir: string, found: Environment, wanted: Environment): EnvironmentMismatchError {
  return new EnvironmentMismatchError(
    `state dir ${dir} belongs to environment "${found}", not "${wanted}"`,
    `use --environment ${found}, or a separate --state-dir for ${wanted}: environments never share tokens`,
  );
}

function parseTokensFile(content: string, path: string): TokensFile {
  const corrupt = (what: string, cause?: unknown) =>
    new StateError(`${path} is corrupt: ${what}`, {
      hint: "restore it from a backup, or move the state dir away and create new tokens",
      cause,
    });
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (cause) {
    throw corrupt("not valid JSON", cause);
  }
  const file = data as Partial<TokensFile> | null;
  if (typeof file !== "object" || file === null || file.version !== 1) throw corrupt("expected version 1");
  if (!isEnvironment(file.environment)) throw corrupt(`unknown environment ${JSON.stringify(file.environment)}`);
  if (!Array.isArray(file.tokens)) throw corrupt("tokens is not an array");
  file.tokens.forEach((t: Partial<TokenRecord>, i) => {
    const ok =
      typeof t.id === "string" &&
      typeof t.name === "string" &&
      typeof t.lookupId === "string" &&
      typeof t.sha256 === "string" &&
      typeof t.createdAt === "string" &&
      Array.isArray(t.scopes) &&
      t.scopes.every(isScope);
    if (!ok) throw corrupt(`tokens[${i}] lacks id, name, lookupId, sha256, createdAt or valid scopes`);
  });
  return file as TokensFile;
}
