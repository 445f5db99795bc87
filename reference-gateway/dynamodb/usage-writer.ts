import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { CONSUMER_WINDOW_RETENTION_MS } from "../request-log";
import { consumerSortKey, consumersPartition, key, lastUsedKey, minutesPartition, minuteSortKey, num, requestsPartition, SK, str, stringOf, TTL, type Item } from "./items";
import type { PendingEntry, Tally, UsageBatch } from "./usage-batch";

/** Per-request entries are kept this long (the table's TTL deletes them); the API answers at most 1000 of them. */
export const REQUEST_ENTRY_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** BatchWriteItem takes at most 25 items. */
const BATCH_WRITE_MAX = 25;
const MINUTE_MS = 60_000;

/**
 * The writes of one flush: entries in batches, and the aggregates as updates that commute, so that several
 * instances' flushes merge in any order. What cannot be written goes into `failed`, for the next flush.
 */
export class UsageWriter {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  async writeEntries(entries: readonly PendingEntry[], failed: UsageBatch): Promise<void> {
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
        // This chunk and every one after it wait for the next flush (dropping the rest lost requests for good).
        entries.slice(i).forEach((e) => failed.addEntry(e));
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
  async writeLastUsed(tokenId: string, at: string): Promise<void> {
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
  async writeTally(tally: Tally, failed: UsageBatch): Promise<void> {
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
}

/** Only the placeholders an expression uses: DynamoDB refuses unused ones. */
function pick<T>(all: Record<string, T>, expression: string, condition: string | undefined): Record<string, T> {
  const text = `${expression} ${condition ?? ""}`;
  return Object.fromEntries(Object.entries(all).filter(([placeholder]) => new RegExp(`${placeholder}\\b`).test(text)));
}

/** Runs the tasks with at most `limit` in flight. */
export async function runLimited(tasks: ReadonlyArray<() => Promise<unknown>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
