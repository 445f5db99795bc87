import { GetItemCommand, QueryCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomBytes } from "node:crypto";
import type { Clock } from "../../src/domain/clock";
import { isOwnTraffic, type ConsumerSource, type ConsumerSummary } from "../consumers";
import { requestLogUnavailable } from "../errors";
import type { RequestLogOutage, RequestLogStore } from "../registry-store";
import { CONSUMER_WINDOW_RETENTION_MS, type RequestLogEntry, type RequestQuery } from "../request-log";
import {
  consumersPartition,
  LAST_USED_PARTITION,
  lastUsedKey,
  minutesPartition,
  minuteSortKey,
  numberOf,
  PK,
  requestsPartition,
  SK,
  str,
  stringOf,
  type Item,
} from "./items";
import { registryTableError } from "./table-error";
import { UsageBatch } from "./usage-batch";
import { REQUEST_ENTRY_RETENTION_MS, runLimited, UsageWriter } from "./usage-writer";

/** @see DynamoDbRequestLogOptions.flushIntervalMs */
export const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
/** @see DynamoDbRequestLogOptions.flushEntries */
export const DEFAULT_FLUSH_ENTRIES = 250;
/** Entries kept for the next flush when the table cannot be written; older ones are dropped (and counted) beyond. */
const MAX_PENDING_ENTRIES = 20_000;
/** Updates of one flush in flight at once. */
const UPDATE_CONCURRENCY = 8;
const MINUTE_MS = 60_000;
/** @see unwrittenLogBoundMs */
const MIN_UNWRITTEN_BOUND_MS = 10_000;
const UNWRITTEN_BOUND_FLUSHES = 5;

/**
 * How long a front may hold requests it could not write before it fails closed: five flush intervals, at least
 * 10 s. Long enough that a throttled flush or two (which the next flush absorbs, after the SDK's own retries of a
 * few seconds) never takes a front out of service; short enough, even at the largest --registry-flush-ms (60 s,
 * so 5 min), to stay far below the rotator's silence margin (15 min, src/rotation/consumer-evidence.ts), so a
 * consumer whose requests only this front saw cannot look silent to the drain: once refused, its retries land
 * on a front that records them.
 */
export function unwrittenLogBoundMs(flushIntervalMs: number): number {
  return Math.max(UNWRITTEN_BOUND_FLUSHES * flushIntervalMs, MIN_UNWRITTEN_BOUND_MS);
}

export interface DynamoDbRequestLogOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** Pending requests are written at least this often. @default DEFAULT_FLUSH_INTERVAL_MS */
  readonly flushIntervalMs?: number;
  /** ... and as soon as this many requests are pending. @default DEFAULT_FLUSH_ENTRIES */
  readonly flushEntries?: number;
  /** Where flush trouble is reported (never with a token value). @default process.stderr */
  readonly warn?: (message: string) => void;
  /** Monotonic milliseconds for the unwritten bound (not the gateway's clock, which tests shift). @default performance.now */
  readonly monotonicNow?: () => number;
}

/**
 * The request log of a fleet: requests are accumulated in memory and flushed in batches (every flushIntervalMs,
 * every flushEntries requests, on close, and before any read), so that N requests cost a few writes, not N:
 * entries go 25 to a BatchWriteItem, and the aggregates (last use, per-consumer first/last seen, count, last
 * status, all time and per minute) one UpdateItem per token or consumer, whatever the count.
 *
 * The updates commute, so instances flushing the same aggregates in any order agree: the count is an atomic ADD,
 * first/last seen move only backwards/forwards (conditions stand in for the min/max DynamoDB lacks).
 */
export class DynamoDbRequestLog implements RequestLogStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #clock: Clock;
  readonly #flushEntries: number;
  readonly #warn: (message: string) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #writer: UsageWriter;
  readonly #flushIntervalMs: number;
  readonly #unwrittenBoundMs: number;
  readonly #monotonicNow: () => number;
  /**
   * When (monotonic) the oldest entry of the pending batch was recorded; entries a failed flush kept keep their time.
   * The bound counts from the entry, not from a failed flush: a write that hangs (the SDK's default socket timeout is
   * 5 minutes, with 3 attempts) must not let the front serve unrecorded traffic all that while.
   */
  #pendingSinceMs: number | undefined;
  /** When (monotonic) the oldest entry of the batch a flush is writing was recorded; undefined when none is. */
  #writingSinceMs: number | undefined;
  /** The last flush left entries unwritten: the evidence endpoints refuse until one writes everything. */
  #behind = false;
  /** Makes entry sort keys unique across instances writing the same millisecond. */
  readonly #instance = randomBytes(4).toString("hex");
  #seq = 0;
  #pending = new UsageBatch();
  /** The last flush queued; each waits for the one before, so a read waits for everything recorded before it. */
  #flushing: Promise<void> = Promise.resolve();
  /** A flush queued but not started yet: it will take everything recorded until it starts, so callers share it. */
  #queued: Promise<void> | undefined;

  constructor(options: DynamoDbRequestLogOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock;
    this.#flushEntries = options.flushEntries ?? DEFAULT_FLUSH_ENTRIES;
    this.#flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.#unwrittenBoundMs = unwrittenLogBoundMs(this.#flushIntervalMs);
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.#writer = new UsageWriter(options.client, options.tableName);
    this.#warn = options.warn ?? ((message) => process.stderr.write(`reference-gateway: ${message}\n`));
    this.#timer = setInterval(() => {
      if (!this.#pending.isEmpty) void this.flush();
    }, this.#flushIntervalMs).unref();
  }

  record(tokenId: string, entry: RequestLogEntry, authenticated: boolean, consumerSource?: ConsumerSource): void {
    const atMs = Date.parse(entry.at);
    const sortKey = `${entry.at}#${this.#instance}#${String(this.#seq++).padStart(12, "0")}`;
    this.#pendingSinceMs ??= this.#monotonicNow();
    this.#pending.addEntry({ tokenId, entry, sortKey });
    if (authenticated) this.#pending.addLastUsed(tokenId, entry.at);
    if (entry.consumer !== undefined && consumerSource !== undefined && !isOwnTraffic(entry.userAgent)) {
      const tally = { tokenId, consumer: entry.consumer, source: consumerSource, firstMs: atMs, lastMs: atMs, count: 1, lastStatus: entry.status };
      this.#pending.addTally(tally);
      this.#pending.addTally({ ...tally, minute: Math.floor(atMs / MINUTE_MS) });
    }
    if (this.#pending.entries.length >= this.#flushEntries) void this.flush();
  }

  /** Writes everything recorded so far; resolves when written (or re-queued after a failure, which is reported). */
  flush(): Promise<void> {
    if (this.#queued) return this.#queued;
    const run = this.#flushing.then(() => {
      this.#queued = undefined;
      return this.#writePending().catch((error: unknown) => this.#warn(`request log: flush failed: ${(error as Error).message}`));
    });
    this.#queued = run;
    this.#flushing = run;
    return run;
  }

  /** Whether this front must fail closed: an entry not yet written (pending, or in a flush) has waited longer than the bound. */
  outage(): RequestLogOutage | undefined {
    const since = [this.#writingSinceMs, this.#pendingSinceMs].filter((t) => t !== undefined);
    if (since.length === 0) return undefined;
    const unwrittenForMs = this.#monotonicNow() - Math.min(...since);
    if (unwrittenForMs <= this.#unwrittenBoundMs) return undefined;
    return { unwrittenForMs, boundMs: this.#unwrittenBoundMs, retryAfterSeconds: this.#retryAfterSeconds() };
  }

  async entries(tokenId: string, query: RequestQuery): Promise<RequestLogEntry[]> {
    await this.#flushCompletely();
    const oldestMs = this.#clock.now().getTime() - REQUEST_ENTRY_RETENTION_MS;
    // Strictly after `since`: every sort key of that instant is `<at>#...`, which sorts below `<at>#~`.
    const from = query.sinceMs !== undefined && query.sinceMs >= oldestMs ? `${new Date(query.sinceMs).toISOString()}#~` : new Date(oldestMs).toISOString();
    const page = await this.#call("read the request log", (c) =>
      c.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "#pk = :pk AND #sk > :from",
          ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
          ExpressionAttributeValues: { ":pk": str(requestsPartition(tokenId)), ":from": str(from) },
          ScanIndexForward: false,
          Limit: query.limit,
          ConsistentRead: true,
        }),
      ),
    );
    return (page.Items ?? []).reverse().map(entryOf);
  }

  async lastUsedAt(tokenIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    await this.flush();
    const used = new Map<string, string>();
    if (tokenIds.length <= 10) {
      await Promise.all(
        tokenIds.map(async (id) => {
          const result = await this.#call("read a token's last use", (c) =>
            c.send(new GetItemCommand({ TableName: this.#table, Key: lastUsedKey(id), ConsistentRead: true })),
          );
          const at = result.Item && stringOf(result.Item, "at");
          if (at) used.set(id, at);
        }),
      );
      return used;
    }
    // Many tokens (the admin list): one Query of the last-use partition instead of a read per token.
    const wanted = new Set(tokenIds);
    for (const item of await this.#queryAll(LAST_USED_PARTITION)) {
      const id = stringOf(item, SK);
      const at = stringOf(item, "at");
      if (id && at && wanted.has(id)) used.set(id, at);
    }
    return used;
  }

  async consumers(tokenId: string, sinceMs?: number): Promise<ConsumerSummary[]> {
    await this.#flushCompletely();
    const summaries =
      sinceMs === undefined ? (await this.#queryAll(consumersPartition(tokenId))).map(summaryOf) : await this.#windowed(tokenId, sinceMs);
    return summaries
      .filter((s): s is ConsumerSummary => s !== undefined)
      .sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt) || a.consumer.localeCompare(b.consumer));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    if (!this.#pending.isEmpty) {
      this.#warn(`request log: ${this.#pending.entries.length} entries and ${this.#pending.tallies.size} consumer tallies could not be written before closing`);
    }
  }

  /**
   * Flushes, and refuses to answer if this front still holds requests it could not write (at once, not after the
   * bound): an answer from the table without them would report their consumers silent, and a rotator would take
   * that as evidence they moved. The 503 makes it wait and ask again.
   */
  async #flushCompletely(): Promise<void> {
    await this.flush();
    if (this.#behind) {
      throw requestLogUnavailable("this front holds requests it could not write to the registry table, so the answer would be incomplete", this.#retryAfterSeconds());
    }
  }

  /** About one flush interval: when this front may have written its backlog, or the client's retry lands elsewhere. */
  #retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#flushIntervalMs / 1000));
  }

  /** The window's per-minute tallies summed per consumer; the minute holding `sinceMs` counts whole. */
  async #windowed(tokenId: string, sinceMs: number): Promise<Array<ConsumerSummary | undefined>> {
    const oldestMinute = Math.floor((this.#clock.now().getTime() - CONSUMER_WINDOW_RETENTION_MS) / MINUTE_MS);
    const fromMinute = Math.max(Math.floor(sinceMs / MINUTE_MS), oldestMinute);
    const perConsumer = new Map<string, ConsumerSummary>();
    for (const item of await this.#queryAll(minutesPartition(tokenId), minuteSortKey(fromMinute))) {
      const minute = summaryOf(item);
      if (!minute) continue;
      const known = perConsumer.get(minute.consumer);
      if (!known) {
        perConsumer.set(minute.consumer, minute);
        continue;
      }
      const later = minute.lastSeenAt > known.lastSeenAt ? minute : known;
      perConsumer.set(minute.consumer, {
        ...later,
        firstSeenAt: minute.firstSeenAt < known.firstSeenAt ? minute.firstSeenAt : known.firstSeenAt,
        requests: known.requests + minute.requests,
      });
    }
    return [...perConsumer.values()].filter((s) => Date.parse(s.lastSeenAt) > sinceMs);
  }

  async #queryAll(partition: string, fromSortKey?: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.#call("read the request log", (c) =>
        c.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: fromSortKey === undefined ? "#pk = :pk" : "#pk = :pk AND #sk >= :from",
            ExpressionAttributeNames: { "#pk": PK, ...(fromSortKey !== undefined && { "#sk": SK }) },
            ExpressionAttributeValues: { ":pk": str(partition), ...(fromSortKey !== undefined && { ":from": str(fromSortKey) }) },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** One flush: what fails is folded back into the pending batch for the next one, and reported. */
  async #writePending(): Promise<void> {
    const batch = this.#pending;
    if (batch.isEmpty) {
      this.#behind = false;
      return;
    }
    this.#pending = new UsageBatch();
    const batchSinceMs = this.#pendingSinceMs ?? this.#monotonicNow();
    this.#writingSinceMs = batchSinceMs;
    this.#pendingSinceMs = undefined;
    const failed = new UsageBatch();
    const problems = new Set<string>();
    const note = (error: unknown): void => {
      problems.add(`${(error as Error).name}: ${(error as Error).message}`);
    };
    const updates: Array<() => Promise<void>> = [
      ...[...batch.lastUsed].map(([tokenId, at]) => () => this.#writer.writeLastUsed(tokenId, at).catch((e: unknown) => {
          note(e);
          failed.addLastUsed(tokenId, at);
        }),
      ),
      ...[...batch.tallies.values()].map((tally) => () => this.#writer.writeTally(tally, failed).catch(note)),
    ];
    await Promise.all([this.#writer.writeEntries(batch.entries, failed).catch(note), runLimited(updates, UPDATE_CONCURRENCY)]);
    this.#writingSinceMs = undefined;
    if (failed.isEmpty) {
      this.#behind = false;
      return;
    }
    this.#behind = true;
    // What is kept is older than anything recorded during the flush.
    this.#pendingSinceMs = batchSinceMs;
    failed.absorb(this.#pending);
    const dropped = failed.entries.length - MAX_PENDING_ENTRIES;
    if (dropped > 0) failed.entries.splice(0, dropped);
    this.#pending = failed;
    this.#warn(
      `request log: cannot write to DynamoDB table ${this.#table} (${[...problems].join("; ")}); ` +
        `${failed.entries.length} entries and ${failed.tallies.size} consumer tallies kept for the next flush` +
        (dropped > 0 ? `, ${dropped} oldest entries dropped` : "") +
        (this.outage() ? `; unwritten for more than ${this.#unwrittenBoundMs / 1000} s: refusing token traffic and /healthz (503) until a flush succeeds` : ""),
    );
  }

  async #call<T>(what: string, call: (client: DynamoDBClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.#client);
    } catch (error) {
      throw registryTableError(this.#table, what, error);
    }
  }
}

function entryOf(item: Item): RequestLogEntry {
  const consumer = stringOf(item, "consumer");
  return {
    at: stringOf(item, "at") ?? "",
    method: stringOf(item, "method") ?? "",
    path: stringOf(item, "path") ?? "",
    status: numberOf(item, "status") ?? 0,
    userAgent: stringOf(item, "userAgent") ?? null,
    ...(consumer !== undefined && { consumer }),
  };
}

function summaryOf(item: Item): ConsumerSummary | undefined {
  const consumer = stringOf(item, "consumer");
  const source = stringOf(item, "source") as ConsumerSource | undefined;
  const firstMs = numberOf(item, "firstMs");
  const lastMs = numberOf(item, "lastMs");
  if (consumer === undefined || source === undefined || firstMs === undefined || lastMs === undefined) return undefined;
  return {
    consumer,
    source,
    firstSeenAt: new Date(firstMs).toISOString(),
    lastSeenAt: new Date(lastMs).toISOString(),
    requests: numberOf(item, "requests") ?? 0,
    lastStatus: numberOf(item, "lastStatus") ?? 0,
  };
}
