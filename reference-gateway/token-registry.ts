import type { Clock } from "../src/domain/clock";
import { isEnvironment, type Environment } from "../src/domain/environments";
import { EnvironmentMismatchError } from "../src/domain/errors";
import { isScope, type Scope } from "../src/domain/scopes";
import type { Sensitive } from "../src/domain/sensitive";
import { StateError } from "./errors";
import {
  ChangeTrackedFile,
  ensureStateDir,
  statePaths,
  withStateLock,
  writeFileAtomic,
  type StatePaths,
} from "./state-dir";
import { lookupIdOf, mintTokenValue, newTokenId, valueMatchesHash } from "./token-value";
import type { CreateTokenSpec } from "./token-validation";

/** One token as stored in tokens.json: metadata and the sha256 of the value, never the value itself. */
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

interface TokensFile {
  readonly version: 1;
  readonly environment: Environment;
  readonly tokens: readonly TokenRecord[];
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
 * The tokens of one state dir, for one environment. The in-memory copy is refreshed from tokens.json
 * whenever the file changes (one stat per call to `refresh`), so tokens created or revoked by the admin CLI
 * are seen by a running server on its next request.
 */
export class TokenRegistry {
  readonly environment: Environment;
  readonly paths: StatePaths;
  readonly #clock: Clock;
  readonly #file: ChangeTrackedFile;
  #records: readonly TokenRecord[] = [];
  #byId = new Map<string, TokenRecord>();
  #byLookupId = new Map<string, TokenRecord>();
  /** Whether tokens.json has been read or written at least once. */
  #loaded = false;

  private constructor(paths: StatePaths, environment: Environment, clock: Clock) {
    this.paths = paths;
    this.environment = environment;
    this.#clock = clock;
    this.#file = new ChangeTrackedFile(paths.tokens);
  }

  /**
   * Opens (and on first use initialises) the state dir for `environment`. Refuses a dir that belongs to
   * another environment: a dev gateway must never mint or accept tokens kept with prod ones.
   */
  static async open(stateDir: string, environment: Environment, clock: Clock): Promise<TokenRegistry> {
    ensureStateDir(stateDir);
    const paths = statePaths(stateDir);
    const registry = new TokenRegistry(paths, environment, clock);
    await withStateLock(paths, () => {
      registry.refresh();
      if (!registry.#loaded) registry.#write([]);
    });
    return registry;
  }

  /**
   * Opens an existing state dir in the environment it records (for `auth revoke` and `auth list`); with
   * `expected`, refuses a dir of another environment.
   */
  static openExisting(stateDir: string, clock: Clock, expected?: Environment): TokenRegistry {
    const paths = statePaths(stateDir);
    const file = new ChangeTrackedFile(paths.tokens);
    const content = file.readIfChanged();
    if (content === undefined) {
      throw new StateError(`no tokens.json in ${stateDir}`, {
        hint: "pass the --state-dir of a gateway, or create a first token with `auth create-token`",
      });
    }
    const parsed = parseTokensFile(content, paths.tokens);
    if (expected !== undefined && parsed.environment !== expected) throw environmentMismatch(stateDir, parsed.environment, expected);
    const registry = new TokenRegistry(paths, parsed.environment, clock);
    registry.#load(parsed);
    return registry;
  }

  /** Reloads tokens.json if another process changed it. Throws StateError when it is corrupt. */
  refresh(): void {
    const content = this.#file.readIfChanged();
    if (content === undefined) return;
    const parsed = parseTokensFile(content, this.paths.tokens);
    if (parsed.environment !== this.environment) throw environmentMismatch(this.paths.dir, parsed.environment, this.environment);
    this.#load(parsed);
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
    return this.#byId.get(id);
  }

  /** All tokens (any status) in creation order, optionally only those with exactly this name. */
  list(filter: { name?: string } = {}): readonly TokenRecord[] {
    return filter.name === undefined ? this.#records : this.#records.filter((r) => r.name === filter.name);
  }

  /** Mints a token. The returned value exists only here: it is never stored, only its hash. */
  async create(spec: CreateTokenSpec): Promise<{ record: TokenRecord; value: Sensitive }> {
    return this.#mutate((records) => {
      let minted = mintTokenValue(this.environment);
      // 72 random bits make a collision all but impossible; checking costs nothing and keeps lookup unique.
      while (records.some((r) => r.lookupId === minted.lookupId)) minted = mintTokenValue(this.environment);
      const record: TokenRecord = {
        id: newTokenId(),
        name: spec.name,
        scopes: spec.scopes,
        lookupId: minted.lookupId,
        sha256: minted.sha256,
        createdAt: this.#clock.now().toISOString(),
        expiresAt: spec.expiresAtMs === null ? null : new Date(spec.expiresAtMs).toISOString(),
        revokedAt: null,
      };
      return { records: [...records, record], result: { record, value: minted.value } };
    });
  }

  /** Revokes a token; revoking twice keeps the first revokedAt. Undefined for an unknown id. */
  async revoke(id: string): Promise<TokenRecord | undefined> {
    return this.#mutate((records) => {
      const current = records.find((r) => r.id === id);
      if (current === undefined || current.revokedAt !== null) return { records, result: current };
      const revoked: TokenRecord = { ...current, revokedAt: this.#clock.now().toISOString() };
      return { records: records.map((r) => (r.id === id ? revoked : r)), result: revoked };
    });
  }

  /**
   * Suspends a token: refused with 401 token_suspended until reinstated. Suspending twice keeps the first
   * suspendedAt. Undefined for an unknown id; a revoked token cannot be suspended (the result says so).
   */
  async suspend(id: string): Promise<{ record: TokenRecord; changed: boolean } | undefined> {
    return this.#mutate<{ record: TokenRecord; changed: boolean } | undefined>((records) => {
      const current = records.find((r) => r.id === id);
      if (current === undefined) return { records, result: undefined };
      if (current.revokedAt !== null || current.suspendedAt) return { records, result: { record: current, changed: false } };
      const suspended: TokenRecord = { ...current, suspendedAt: this.#clock.now().toISOString() };
      return { records: records.map((r) => (r.id === id ? suspended : r)), result: { record: suspended, changed: true } };
    });
  }

  /** Lifts a suspension; a no-op on a token that is not suspended. Undefined for an unknown id. */
  async reinstate(id: string): Promise<{ record: TokenRecord; changed: boolean } | undefined> {
    return this.#mutate<{ record: TokenRecord; changed: boolean } | undefined>((records) => {
      const current = records.find((r) => r.id === id);
      if (current === undefined) return { records, result: undefined };
      if (current.revokedAt !== null || !current.suspendedAt) return { records, result: { record: current, changed: false } };
      const reinstated: TokenRecord = { ...current, suspendedAt: null };
      return { records: records.map((r) => (r.id === id ? reinstated : r)), result: { record: reinstated, changed: true } };
    });
  }

  /** Read-modify-write under the lock, starting from the latest file so no other writer's change is lost. */
  async #mutate<T>(change: (records: readonly TokenRecord[]) => { records: readonly TokenRecord[]; result: T }): Promise<T> {
    return withStateLock(this.paths, () => {
      this.refresh();
      const { records, result } = change(this.#records);
      if (records !== this.#records) this.#write(records);
      return result;
    });
  }

  #write(records: readonly TokenRecord[]): void {
    const file: TokensFile = { version: 1, environment: this.environment, tokens: records };
    writeFileAtomic(this.paths.tokens, `${JSON.stringify(file, null, 2)}\n`);
    this.#file.markSeen();
    this.#load(file);
  }

  #load(file: TokensFile): void {
    this.#loaded = true;
    this.#records = file.tokens;
    this.#byId = new Map(file.tokens.map((r) => [r.id, r]));
    this.#byLookupId = new Map(file.tokens.map((r) => [r.lookupId, r]));
  }
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
