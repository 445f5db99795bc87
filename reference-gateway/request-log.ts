import { ConsumerAggregates, isOwnTraffic, type ConsumerSource, type ConsumerSummary } from "./consumers";
import { closeSync, createWriteStream, fstatSync, openSync, readSync, type WriteStream } from "node:fs";

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

/** A line of requests.jsonl. */
interface StoredEntry extends RequestLogEntry {
  readonly tokenId: string;
  /** Whether the token was active at the time; such requests set lastUsedAt. */
  readonly authenticated: boolean;
  readonly consumerSource?: ConsumerSource;
}

/** The contract keeps the last 1000 requests per token; older ones stay only in requests.jsonl. */
export const MAX_ENTRIES_PER_TOKEN = 1000;
/** Start-up reads at most this much of the end of requests.jsonl, so a long benchmark log cannot slow it. */
const MAX_LOAD_BYTES = 16 * 1024 * 1024;

export interface RequestQuery {
  /** Only entries strictly after this instant (epoch ms). */
  readonly sinceMs?: number;
  readonly limit: number;
}

/**
 * Per-token request history: the most recent entries in memory, every entry appended to requests.jsonl.
 * Appends go through a write stream, so a request never waits for the disk.
 */
export class RequestLog {
  readonly #byToken = new Map<string, StoredEntry[]>();
  readonly #lastUsedAt = new Map<string, string>();
  readonly #consumers = new ConsumerAggregates();
  #out: WriteStream | undefined;
  #writeError: Error | undefined;

  /** Loads the tail of `path` (when it exists); with `append`, new entries are written to it too. */
  static open(path: string, options: { append: boolean }): RequestLog {
    const log = new RequestLog();
    for (const line of readTail(path)) {
      const entry = parseLine(line);
      if (entry) log.#remember(entry);
    }
    if (options.append) {
      log.#out = createWriteStream(path, { flags: "a", mode: 0o600 });
      // Losing the audit trail must be visible, but must not take the gateway down: report it once.
      log.#out.on("error", (error) => {
        if (!log.#writeError) process.stderr.write(`reference-gateway: cannot append to ${path}: ${error.message}\n`);
        log.#writeError = error;
      });
    }
    return log;
  }

  record(tokenId: string, entry: RequestLogEntry, authenticated: boolean, consumerSource?: ConsumerSource): void {
    const stored: StoredEntry = { tokenId, ...entry, authenticated, ...(consumerSource && { consumerSource }) };
    this.#remember(stored);
    this.#out?.write(`${JSON.stringify(stored)}\n`);
  }

  /** The most recent `limit` entries strictly after `sinceMs`, oldest first. */
  entries(tokenId: string, query: RequestQuery): RequestLogEntry[] {
    const { sinceMs, limit } = query;
    const all = this.#byToken.get(tokenId) ?? [];
    const after = sinceMs === undefined ? all : all.filter((e) => Date.parse(e.at) > sinceMs);
    return after
      .slice(-limit)
      .map(({ at, method, path, status, userAgent, consumer }) => ({ at, method, path, status, userAgent, ...(consumer !== undefined && { consumer }) }));
  }

  /** The token's distinct consumers (the project's own calls left out), from the aggregate. */
  consumers(tokenId: string, sinceMs?: number): ConsumerSummary[] {
    return this.#consumers.consumers(tokenId, sinceMs);
  }

  /** When the token last made a request while it was active, or null. */
  lastUsedAt(tokenId: string): string | null {
    return this.#lastUsedAt.get(tokenId) ?? null;
  }

  /** Flushes pending appends. */
  async close(): Promise<void> {
    const out = this.#out;
    this.#out = undefined;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }

  #remember(entry: StoredEntry): void {
    let list = this.#byToken.get(entry.tokenId);
    if (!list) this.#byToken.set(entry.tokenId, (list = []));
    list.push(entry);
    if (list.length > MAX_ENTRIES_PER_TOKEN) list.shift();
    if (entry.authenticated) this.#lastUsedAt.set(entry.tokenId, entry.at);
    if (entry.consumer !== undefined && entry.consumerSource !== undefined && !isOwnTraffic(entry.userAgent)) {
      this.#consumers.record(entry.tokenId, { consumer: entry.consumer, source: entry.consumerSource }, Date.parse(entry.at), entry.status);
    }
  }
}

function readTail(path: string): string[] {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw cause;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - MAX_LOAD_BYTES);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString("utf8").split("\n");
    // Reading from the middle of the file: the first line is a fragment.
    return start > 0 ? lines.slice(1) : lines;
  } finally {
    closeSync(fd);
  }
}

/** A line, or undefined for a blank or damaged one (a crash mid-append leaves a partial last line). */
function parseLine(line: string): StoredEntry | undefined {
  if (line.trim() === "") return undefined;
  try {
    const e = JSON.parse(line) as Partial<StoredEntry>;
    return typeof e.tokenId === "string" && typeof e.at === "string" && typeof e.status === "number"
      ? (e as StoredEntry)
      : undefined;
  } catch {
    return undefined;
  }
}
