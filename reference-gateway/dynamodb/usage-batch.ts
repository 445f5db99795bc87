import type { ConsumerSource } from "../consumers";
import type { RequestLogEntry } from "../request-log";

/** One consumer's requests with one token (all time, or within one minute), as accumulated between flushes. */
export interface Tally {
  readonly tokenId: string;
  readonly consumer: string;
  readonly source: ConsumerSource;
  /** Set for a per-minute tally: minutes since the epoch. */
  readonly minute?: number;
  readonly firstMs: number;
  readonly lastMs: number;
  /** Requests counted; 0 for a tally re-queued only to fix its first/last times. */
  readonly count: number;
  /** The status of the request at lastMs. */
  readonly lastStatus: number;
}

export interface PendingEntry {
  readonly tokenId: string;
  readonly entry: RequestLogEntry;
  /** Unique per entry across the fleet: `<at>#<instance>#<seq>`. */
  readonly sortKey: string;
}

/** Merges two tallies of the same key: counts add, the earliest first and the latest last (with its status) win. */
export function mergeTallies(a: Tally, b: Tally): Tally {
  const later = b.lastMs > a.lastMs ? b : a;
  return { ...a, firstMs: Math.min(a.firstMs, b.firstMs), lastMs: later.lastMs, lastStatus: later.lastStatus, count: a.count + b.count };
}

/**
 * What one instance has recorded since its last flush: the entries, and the aggregates already folded, so a flush
 * writes one update per token and per (token, consumer[, minute]) however many requests they stand for.
 */
export class UsageBatch {
  readonly entries: PendingEntry[] = [];
  /** Token ID -> the latest `at` of an authenticated request. */
  readonly lastUsed = new Map<string, string>();
  readonly tallies = new Map<string, Tally>();

  get isEmpty(): boolean {
    return this.entries.length === 0 && this.lastUsed.size === 0 && this.tallies.size === 0;
  }

  addEntry(entry: PendingEntry): void {
    this.entries.push(entry);
  }

  addLastUsed(tokenId: string, at: string): void {
    const known = this.lastUsed.get(tokenId);
    if (known === undefined || known < at) this.lastUsed.set(tokenId, at);
  }

  addTally(tally: Tally): void {
    const key = `${tally.tokenId}\n${tally.minute ?? "all"}\n${tally.consumer}`;
    const known = this.tallies.get(key);
    this.tallies.set(key, known ? mergeTallies(known, tally) : tally);
  }

  /** Folds `other` into this batch (a failed flush's remainder back into the pending one). */
  absorb(other: UsageBatch): void {
    for (const entry of other.entries) this.addEntry(entry);
    for (const [tokenId, at] of other.lastUsed) this.addLastUsed(tokenId, at);
    for (const tally of other.tallies.values()) this.addTally(tally);
  }
}
