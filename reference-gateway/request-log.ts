import type { DatabaseSync, StatementSync } from "node:sqlite";
import { isOwnTraffic, type ConsumerSource, type ConsumerSummary } from "./consumers";
import { inTransaction } from "./registry-db";

/** One request as the contract reports it (`GET /v1/admin/tokens/{id}/requests`). */
export interface RequestLogEntry {
  readonly at: string;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly status: number;
  /** The User-Agent header, so a rotator can leave out its own calls; null when absent. */
  readonly userAgent: string | null;
  /** Who called (consumers.ts): the X-OpenClaw-Consumer header, else `<address> <User-Agent>`. */
  readonly consumer?: string;
}

/** The contract keeps the last 1000 requests per token; older ones are deleted (bounded retention). */
export const MAX_ENTRIES_PER_TOKEN = 1000;
/** How far back a consumers window can look at minute resolution; older minutes are deleted. */
export const CONSUMER_WINDOW_RETENTION_MS = 24 * 60 * 60_000;
/** Retention is enforced every this many recorded requests, not on each one. */
const PRUNE_EVERY = 500;
const MINUTE_MS = 60_000;

export interface RequestQuery {
  /** Only entries strictly after this instant (epoch ms). */
  readonly sinceMs?: number;
  readonly limit: number;
}

interface Statements {
  readonly insert: StatementSync;
  readonly used: StatementSync;
  readonly consumer: StatementSync;
  readonly minute: StatementSync;
  readonly entries: StatementSync;
  readonly lastUsed: StatementSync;
  readonly allTime: StatementSync;
  readonly windowed: StatementSync;
}

/**
 * Per-token request history and consumer aggregates, in the registry database. Each request is one small write
 * transaction: the entry, lastUsedAt, and the consumer's all-time and per-minute tallies (upserts), so that
 * "who calls with this token, since when" is answered from the aggregates, never by scanning requests.
 */
export class RequestLog {
  readonly #db: DatabaseSync;
  readonly #sql: Statements;
  #sincePrune = 0;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#sql = {
      insert: db.prepare(
        "INSERT INTO requests (token_id, at, at_ms, method, path, status, user_agent, consumer, authenticated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      used: db.prepare(
        "INSERT INTO token_usage (token_id, last_used_at) VALUES (?, ?) ON CONFLICT (token_id) DO UPDATE SET last_used_at = excluded.last_used_at",
      ),
      consumer: db.prepare(
        `INSERT INTO consumers (token_id, consumer, source, first_ms, last_ms, count, last_status) VALUES (?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT (token_id, consumer) DO UPDATE SET
           first_ms = MIN(first_ms, excluded.first_ms),
           last_status = CASE WHEN excluded.last_ms >= last_ms THEN excluded.last_status ELSE last_status END,
           last_ms = MAX(last_ms, excluded.last_ms),
           count = count + 1`,
      ),
      minute: db.prepare(
        `INSERT INTO consumer_minutes (token_id, consumer, minute, first_ms, last_ms, count, last_status) VALUES (?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT (token_id, consumer, minute) DO UPDATE SET
           first_ms = MIN(first_ms, excluded.first_ms),
           last_status = CASE WHEN excluded.last_ms >= last_ms THEN excluded.last_status ELSE last_status END,
           last_ms = MAX(last_ms, excluded.last_ms),
           count = count + 1`,
      ),
      entries: db.prepare(
        "SELECT at, method, path, status, user_agent, consumer FROM requests WHERE token_id = ? AND at_ms > ? ORDER BY seq DESC LIMIT ?",
      ),
      lastUsed: db.prepare("SELECT last_used_at FROM token_usage WHERE token_id = ?"),
      allTime: db.prepare(
        "SELECT consumer, source, first_ms, last_ms, count, last_status FROM consumers WHERE token_id = ? ORDER BY last_ms DESC, consumer",
      ),
      // SQLite takes the bare column last_status from the row holding MAX(last_ms).
      windowed: db.prepare(
        `SELECT m.consumer AS consumer, c.source AS source, MIN(m.first_ms) AS first_ms, MAX(m.last_ms) AS last_ms,
                SUM(m.count) AS count, m.last_status AS last_status
         FROM consumer_minutes m JOIN consumers c ON c.token_id = m.token_id AND c.consumer = m.consumer
         WHERE m.token_id = ? AND m.minute >= ? AND c.last_ms > ?
         GROUP BY m.consumer ORDER BY last_ms DESC, consumer`,
      ),
    };
  }

  /** The request log of a registry database (TokenRegistry.db). */
  static open(db: DatabaseSync): RequestLog {
    return new RequestLog(db);
  }

  record(tokenId: string, entry: RequestLogEntry, authenticated: boolean, consumerSource?: ConsumerSource): void {
    const atMs = Date.parse(entry.at);
    const { consumer } = entry;
    inTransaction(this.#db, () => {
      this.#sql.insert.run(tokenId, entry.at, atMs, entry.method, entry.path, entry.status, entry.userAgent, consumer ?? null, authenticated ? 1 : 0);
      if (authenticated) this.#sql.used.run(tokenId, entry.at);
      if (consumer !== undefined && consumerSource !== undefined && !isOwnTraffic(entry.userAgent)) {
        this.#sql.consumer.run(tokenId, consumer, consumerSource, atMs, atMs, entry.status);
        this.#sql.minute.run(tokenId, consumer, Math.floor(atMs / MINUTE_MS), atMs, atMs, entry.status);
      }
    });
    if (++this.#sincePrune >= PRUNE_EVERY) {
      this.#sincePrune = 0;
      this.prune(atMs);
    }
  }

  /** Bounded retention: the last MAX_ENTRIES_PER_TOKEN requests per token, 24 hours of per-minute tallies. */
  prune(nowMs: number): void {
    inTransaction(this.#db, () => {
      this.#db
        .prepare(
          `DELETE FROM requests WHERE seq IN (
             SELECT seq FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY token_id ORDER BY seq DESC) AS n FROM requests) WHERE n > ?)`,
        )
        .run(MAX_ENTRIES_PER_TOKEN);
      this.#db.prepare("DELETE FROM consumer_minutes WHERE minute < ?").run(Math.floor((nowMs - CONSUMER_WINDOW_RETENTION_MS) / MINUTE_MS));
    });
  }

  /** The most recent `limit` entries strictly after `sinceMs`, oldest first. */
  entries(tokenId: string, query: RequestQuery): RequestLogEntry[] {
    const rows = this.#sql.entries.all(tokenId, query.sinceMs ?? Number.MIN_SAFE_INTEGER, query.limit) as unknown as Array<{
      at: string;
      method: string;
      path: string;
      status: number;
      user_agent: string | null;
      consumer: string | null;
    }>;
    return rows
      .reverse()
      .map((r) => ({ at: r.at, method: r.method, path: r.path, status: r.status, userAgent: r.user_agent, ...(r.consumer !== null && { consumer: r.consumer }) }));
  }

  /** When the token last made a request while it was active, or null. */
  lastUsedAt(tokenId: string): string | null {
    return (this.#sql.lastUsed.get(tokenId) as { last_used_at: string } | undefined)?.last_used_at ?? null;
  }

  /**
   * The token's distinct consumers (the project's own calls left out), most recently seen first. With
   * `sinceMs`, only those seen after it, with the tallies of the window; the minute holding `sinceMs` counts whole.
   */
  consumers(tokenId: string, sinceMs?: number): ConsumerSummary[] {
    const rows = (
      sinceMs === undefined ? this.#sql.allTime.all(tokenId) : this.#sql.windowed.all(tokenId, Math.floor(sinceMs / MINUTE_MS), sinceMs)
    ) as unknown as Array<{ consumer: string; source: ConsumerSource; first_ms: number; last_ms: number; count: number; last_status: number }>;
    return rows.map((r) => ({
      consumer: r.consumer,
      source: r.source,
      firstSeenAt: new Date(r.first_ms).toISOString(),
      lastSeenAt: new Date(r.last_ms).toISOString(),
      requests: r.count,
      lastStatus: r.last_status,
    }));
  }

  /** Nothing is buffered: every request is committed when recorded. Kept for the server's close sequence. */
  async close(): Promise<void> {}
}
