/**
 * Who calls with a token: a consumer identity per request, and per token an aggregate of its distinct consumers
 * (first seen, last seen, request count, last status) that answers a time window without scanning requests.
 */

/** The header a client sets to name itself (an instance ID); without it the address and User-Agent stand in. */
export const CONSUMER_HEADER = "x-openclaw-consumer";
/** The project's own calls (provider, rotator, CLI) are never consumer traffic (src/gateway/backend.ts). */
export const OWN_USER_AGENT_PREFIX = "openclaw-token-ops/";
/** A consumer header value: 1-128 visible ASCII characters; anything else is ignored. */
const CONSUMER_ID = /^[\x21-\x7e]{1,128}$/;

export const ConsumerSource = { Header: "header", Address: "address" } as const;
export type ConsumerSource = (typeof ConsumerSource)[keyof typeof ConsumerSource];

export interface ConsumerIdentity {
  /** The header's value, or `<address> <User-Agent>`: what makes two requests the same consumer. */
  readonly consumer: string;
  readonly source: ConsumerSource;
}

export function consumerOf(header: string | string[] | undefined, address: string | undefined, userAgent: string | null): ConsumerIdentity {
  const named = typeof header === "string" ? header.trim() : undefined;
  if (named !== undefined && CONSUMER_ID.test(named)) return { consumer: named, source: ConsumerSource.Header };
  return { consumer: `${address ?? "unknown"} ${userAgent ?? "-"}`, source: ConsumerSource.Address };
}

export function isOwnTraffic(userAgent: string | null): boolean {
  return userAgent !== null && userAgent.startsWith(OWN_USER_AGENT_PREFIX);
}

/** One consumer of one token, as `GET /v1/admin/tokens/{id}/consumers` answers it. */
export interface ConsumerSummary {
  readonly consumer: string;
  readonly source: ConsumerSource;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly requests: number;
  readonly lastStatus: number;
}

interface Tally {
  firstMs: number;
  lastMs: number;
  count: number;
  lastStatus: number;
}

interface ConsumerRecord {
  readonly identity: ConsumerIdentity;
  readonly total: Tally;
  /** Per-minute tallies (key: epoch minute) for the retention window, oldest first. */
  readonly minutes: Map<number, Tally>;
}

const MINUTE_MS = 60_000;
/** How far back a window can look at minute resolution; older requests count only in the all-time tally. */
export const CONSUMER_WINDOW_RETENTION_MS = 24 * 60 * MINUTE_MS;
/** Distinct consumers kept per token; past it the least recently seen is dropped, so memory stays bounded. */
export const MAX_CONSUMERS_PER_TOKEN = 1_000;

export class ConsumerAggregates {
  readonly #byToken = new Map<string, Map<string, ConsumerRecord>>();

  record(tokenId: string, identity: ConsumerIdentity, atMs: number, status: number): void {
    let consumers = this.#byToken.get(tokenId);
    if (!consumers) this.#byToken.set(tokenId, (consumers = new Map()));
    let record = consumers.get(identity.consumer);
    if (record) {
      consumers.delete(identity.consumer); // re-inserted below: the map stays ordered by last seen
    } else {
      record = { identity, total: { firstMs: atMs, lastMs: atMs, count: 0, lastStatus: status }, minutes: new Map() };
      if (consumers.size >= MAX_CONSUMERS_PER_TOKEN) consumers.delete(consumers.keys().next().value as string);
    }
    consumers.set(identity.consumer, record);
    tally(record.total, atMs, status);
    const minute = Math.floor(atMs / MINUTE_MS);
    let bucket = record.minutes.get(minute);
    if (!bucket) record.minutes.set(minute, (bucket = { firstMs: atMs, lastMs: atMs, count: 0, lastStatus: status }));
    tally(bucket, atMs, status);
    const oldest = Math.floor((atMs - CONSUMER_WINDOW_RETENTION_MS) / MINUTE_MS);
    for (const key of record.minutes.keys()) {
      if (key >= oldest) break;
      record.minutes.delete(key);
    }
  }

  /**
   * The token's consumers, most recently seen first. With `sinceMs`, only consumers seen after it, with the
   * tallies of the window; the minute that contains `sinceMs` counts whole.
   */
  consumers(tokenId: string, sinceMs?: number): ConsumerSummary[] {
    const records = [...(this.#byToken.get(tokenId)?.values() ?? [])].reverse();
    const out: ConsumerSummary[] = [];
    for (const record of records) {
      const window = sinceMs === undefined ? record.total : windowTally(record, sinceMs);
      if (window === undefined) continue;
      out.push({
        consumer: record.identity.consumer,
        source: record.identity.source,
        firstSeenAt: new Date(window.firstMs).toISOString(),
        lastSeenAt: new Date(window.lastMs).toISOString(),
        requests: window.count,
        lastStatus: window.lastStatus,
      });
    }
    return out;
  }
}

function tally(t: Tally, atMs: number, status: number): void {
  t.count++;
  t.firstMs = Math.min(t.firstMs, atMs);
  if (atMs >= t.lastMs) {
    t.lastMs = atMs;
    t.lastStatus = status;
  }
}

function windowTally(record: ConsumerRecord, sinceMs: number): Tally | undefined {
  if (record.total.lastMs <= sinceMs) return undefined;
  const fromMinute = Math.floor(sinceMs / MINUTE_MS);
  let result: Tally | undefined;
  for (const [minute, bucket] of record.minutes) {
    if (minute < fromMinute) continue;
    if (!result) result = { ...bucket };
    else {
      result.count += bucket.count;
      result.firstMs = Math.min(result.firstMs, bucket.firstMs);
      if (bucket.lastMs >= result.lastMs) {
        result.lastMs = bucket.lastMs;
        result.lastStatus = bucket.lastStatus;
      }
    }
  }
  return result;
}
