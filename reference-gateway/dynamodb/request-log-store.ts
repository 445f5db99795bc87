import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { randomBytes } from "node:crypto";
import type { Clock } from "../../src/domain/clock";
import { isOwnTraffic, type ConsumerSource, type ConsumerSummary } from "../consumers";
import type { RequestLogStore } from "../registry-store";
import { CONSUMER_WINDOW_RETENTION_MS, type RequestLogEntry, type RequestQuery } from "../request-log";
import {
  consumerSortKey,
  consumersPartition,
  key,
  LAST_USED_PARTITION,
  lastUsedKey,
  minutesPartition,
  minuteSortKey,
  num,
  numberOf,
  PK,
  requestsPartition,
  SK,
  str,
  stringOf,
  TTL,
  type Item,
} from "./items";
import { registryTableError } from "./token-store";
import { UsageBatch, type PendingEntry, type Tally } from "./usage-batch";

/** Per-request entries are kept this long (the table's TTL deletes them); the API answers at most 1000 of them. */
export const REQUEST_ENTRY_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** @see DynamoDbRequestLogOptions.flushIntervalMs */
export const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
/** @see DynamoDbRequestLogOptions.flushEntries */
export const DEFAULT_FLUSH_ENTRIES = 250;
/** Entries kept for the next flush when the table cannot be written; older ones are dropped (and counted) beyond. */
const MAX_PENDING_ENTRIES = 20_000;
/** BatchWriteItem takes at most 25 items. */
const BATCH_WRITE_MAX = 25;
/** Updates of one flush in flight at once. */
const UPDATE_CONCURRENCY = 8;
const MINUTE_MS = 60_000;

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
    this.#warn = options.warn ?? ((message) => process.stderr.write(`reference-gateway: ${message}\n`));
    this.#timer = setInterval(() => {
      if (!this.#pending.isEmpty) void this.flush();
    }, options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS).unref();
  }

  record(tokenId: string, entry: RequestLogEntry, authenticated: boolean, consumerSource?: ConsumerSource): void {
    const atMs = Date.parse(entry.at);
    const sortKey = `${entry.at}#${this.#instance}#${String(this.#seq++).padStart(12, "0")}`;
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

  async entries(tokenId: string, query: RequestQuery): Promise<RequestLogEntry[]> {
    await this.flush();
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
    await this.flush();
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
    if (batch.isEmpty) return;
    this.#pending = new UsageBatch();
    const failed = new UsageBatch();
    const problems = new Set<string>();
    const note = (error: unknown): void => {
      problems.add(`${(error as Error).name}: ${(error as Error).message}`);
    };
    const updates: Array<() => Promise<void>> = [
      ...[...batch.lastUsed].map(([tokenId, at]) => () => this.#writeLastUsed(tokenId, at).catch((e: unknown) => {
          note(e);
          failed.addLastUsed(tokenId, at);
        }),
      ),
      ...[...batch.tallies.values()].map((tally) => () => this.#writeTally(tally, failed).catch(note)),
    ];
    await Promise.all([this.#writeEntries(batch.entries, failed).catch(note), runLimited(updates, UPDATE_CONCURRENCY)]);
    if (failed.isEmpty) return;
    failed.absorb(this.#pending);
    const dropped = failed.entries.length - MAX_PENDING_ENTRIES;
    if (dropped > 0) failed.entries.splice(0, dropped);
    this.#pending = failed;
    this.#warn(
      `request log: cannot write to DynamoDB table ${this.#table} (${[...problems].join("; ")}); ` +
        `${failed.entries.length} entries and ${failed.tallies.size} consumer tallies kept for the next flush` +
        (dropped > 0 ? `, ${dropped} oldest entries dropped` : ""),
    );
  }

  async #writeEntries(entries: readonly PendingEntry[], failed: UsageBatch): Promise<void> {
    for (let i = 0; i < entries.length; i += BATCH_WRITE_MAX) {
      const chunk = entries.slice(i, i + BATCH_WRITE_MAX);
      let requests: WriteRequest[] = chunk.map((e) => ({ PutRequest: { Item: this.#entryItem(e) } }));
      try {
        // Unprocessed items (throttling) are retried a few times at once, then left for the next flush.
        for (let attempt = 0; requests.length > 0 && attempt < 3; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const result = await this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: requests } }));
          requests = result.UnprocessedItems?.[this.#table] ?? [];
        }
        if (requests.length > 0) {
          const left = new Set(requests.map((r) => stringOf(r.PutRequest?.Item ?? {}, SK)));
          chunk.filter((e) => left.has(e.sortKey)).forEach((e) => failed.addEntry(e));
        }
      } catch (error) {
        chunk.forEach((e) => failed.addEntry(e));
        throw error;
      }
    }
  }

  #entryItem({ tokenId, entry, sortKey }: PendingEntry): Item {
    return {
      ...key(requestsPartition(tokenId), sortKey),
      at: str(entry.at),
      method: str(entry.method),
      path: str(entry.path),
      status: num(entry.status),
      ...(entry.userAgent !== null && { userAgent: str(entry.userAgent) }),
      ...(entry.consumer !== undefined && { consumer: str(entry.consumer) }),
      [TTL]: num(Math.ceil((Date.parse(entry.at) + REQUEST_ENTRY_RETENTION_MS) / 1000)),
    };
  }

  /** lastUsedAt only moves forward: an older flush arriving late changes nothing. */
  async #writeLastUsed(tokenId: string, at: string): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: lastUsedKey(tokenId),
          UpdateExpression: "SET #at = :at",
          ConditionExpression: "attribute_not_exists(#at) OR #at < :at",
          ExpressionAttributeNames: { "#at": "at" },
          ExpressionAttributeValues: { ":at": str(at) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * One tally into its item. Usually one UpdateItem: count added, first kept if earlier, last and its status set,
   * on condition that the stored last is not later and the stored first not earlier. Otherwise (another instance
   * flushed later traffic first) three that always commute: the count with if_not_exists defaults, then last and
   * first, each only if it moves them outwards.
   */
  async #writeTally(tally: Tally, failed: UsageBatch): Promise<void> {
    const itemKey =
      tally.minute === undefined
        ? key(consumersPartition(tally.tokenId), consumerSortKey(tally.consumer))
        : key(minutesPartition(tally.tokenId), `${minuteSortKey(tally.minute)}#${consumerSortKey(tally.consumer)}`);
    const names = { "#first": "firstMs", "#last": "lastMs", "#status": "lastStatus", "#count": "requests", "#source": "source", "#consumer": "consumer" };
    const values: Item = {
      ":first": num(tally.firstMs),
      ":last": num(tally.lastMs),
      ":status": num(tally.lastStatus),
      ":n": num(tally.count),
      ":source": str(tally.source),
      ":consumer": str(tally.consumer),
    };
    const expiry = tally.minute === undefined ? "" : ", #ttl = :ttl";
    const ttlName: Record<string, string> = tally.minute === undefined ? {} : { "#ttl": TTL };
    const ttlValue: Item =
      tally.minute === undefined ? {} : { ":ttl": num(Math.ceil(((tally.minute + 1) * MINUTE_MS + CONSUMER_WINDOW_RETENTION_MS) / 1000)) };
    const update = (expression: string, condition?: string) =>
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: itemKey,
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: pick({ ...names, ...ttlName }, expression, condition),
          ExpressionAttributeValues: pick({ ...values, ...ttlValue }, expression, condition),
        }),
      );
    const ignoringCondition = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (error: unknown) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        },
      );
    try {
      await update(
        `SET #source = :source, #consumer = :consumer, #last = :last, #status = :status, #first = if_not_exists(#first, :first)${expiry} ADD #count :n`,
        "(attribute_not_exists(#last) OR #last <= :last) AND (attribute_not_exists(#first) OR #first <= :first)",
      );
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        failed.addTally(tally);
        throw error;
      }
    }
    try {
      await update(
        `SET #source = if_not_exists(#source, :source), #consumer = :consumer, #first = if_not_exists(#first, :first), ` +
          `#last = if_not_exists(#last, :last), #status = if_not_exists(#status, :status)${expiry} ADD #count :n`,
      );
    } catch (error) {
      failed.addTally(tally);
      throw error;
    }
    try {
      await Promise.all([
        ignoringCondition(update("SET #last = :last, #status = :status", "#last < :last")),
        ignoringCondition(update("SET #first = :first", "#first > :first")),
      ]);
    } catch (error) {
      // The count is in; only first/last may be off: retry them with nothing more to count.
      failed.addTally({ ...tally, count: 0 });
      throw error;
    }
  }

  async #call<T>(what: string, call: (client: DynamoDBClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.#client);
    } catch (error) {
      throw registryTableError(this.#table, what, error);
    }
  }
}

/** Only the placeholders an expression uses: DynamoDB refuses unused ones. */
function pick<T>(all: Record<string, T>, expression: string, condition: string | undefined): Record<string, T> {
  const text = `${expression} ${condition ?? ""}`;
  return Object.fromEntries(Object.entries(all).filter(([placeholder]) => new RegExp(`${placeholder}\\b`).test(text)));
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

/** Runs the tasks with at most `limit` in flight. */
async function runLimited(tasks: ReadonlyArray<() => Promise<unknown>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
