import { chmodSync, existsSync, readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { StateError } from "./errors";

/**
 * The registry database: one SQLite file (`registry.sqlite`, node:sqlite) in the state dir, shared by the server
 * and the admin CLI. WAL mode lets the CLI write while the server reads; `busy_timeout` (1 s: the wait blocks the
 * server's event loop, and a transaction takes milliseconds) makes a writer wait for
 * another instead of failing. Tokens, the request log (bounded) and the per-token consumer aggregates live here.
 */
/** Bump with a migration when the schema changes; a newer file is refused rather than misread. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  lookup_id TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT,
  suspended_at TEXT
);
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  token_id TEXT NOT NULL,
  at TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  user_agent TEXT,
  consumer TEXT,
  authenticated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_token ON requests (token_id, seq);
CREATE TABLE IF NOT EXISTS token_usage (token_id TEXT PRIMARY KEY, last_used_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS consumers (
  token_id TEXT NOT NULL,
  consumer TEXT NOT NULL,
  source TEXT NOT NULL,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  last_status INTEGER NOT NULL,
  PRIMARY KEY (token_id, consumer)
);
CREATE TABLE IF NOT EXISTS consumer_minutes (
  token_id TEXT NOT NULL,
  consumer TEXT NOT NULL,
  minute INTEGER NOT NULL,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  last_status INTEGER NOT NULL,
  PRIMARY KEY (token_id, consumer, minute)
);
`;

/** Opens (creating when absent) the registry database of a state dir, mode 0600. */
export function openRegistryDatabase(path: string): DatabaseSync {
  const fresh = !existsSync(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 1000; PRAGMA foreign_keys = ON;");
    db.exec(SCHEMA);
  } catch (cause) {
    throw new StateError(`cannot open ${path}: ${(cause as Error).message}`, {
      hint: "check that the state dir is writable and the file is a registry database (restore it from a backup otherwise)",
      cause,
    });
  }
  if (fresh) {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
  }
  const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
  if (version === undefined) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
  } else if (Number(version.value) > SCHEMA_VERSION) {
    db.close();
    throw new StateError(`${path} has schema ${version.value}, newer than this gateway understands (${SCHEMA_VERSION})`, {
      hint: "run the gateway version that wrote it, or a newer one",
    });
  }
  return db;
}

/** Runs `fn` in one write transaction (BEGIN IMMEDIATE: writers queue on busy_timeout, never interleave). */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (cause) {
    // SQLITE_BUSY after busy_timeout: another writer held the database for over 1 s. The server answers 503.
    throw new StateError(`the registry database is busy or not writable: ${(cause as Error).message}`, {
      hint: "check for a stuck process holding the state dir, and that the disk is writable",
      cause,
    });
  }
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** The content of a legacy tokens.json, for the one-time import into a new database; undefined when absent. */
export function readLegacyTokensFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw cause;
  }
}
