import { Clock } from "../domain/clock";
import { isLeaseFree, Ledger, LedgerConflictError, LedgerEntry, RotationState, withSweepDeadlines } from "./ledger";

export interface AcquireOptions {
  readonly owner: string;
  readonly clock: Clock;
  readonly ttlMs: number;
  /** Take the lease whoever holds it (the leak response, pulumi destroy): the holder's next write then fails. */
  readonly takeOver?: boolean;
}

export type Acquired =
  | { readonly kind: "acquired"; readonly entry: FencedEntry }
  | { readonly kind: "busy"; readonly holder: string }
  | { readonly kind: "missing" };

/**
 * One actor's hold on a ledger entry: the lease it took, and the version it last wrote. Every write is conditional on
 * that version and renews the lease, so an actor that lost the entry (taken over, or its lease expired and another
 * took it) finds out at its next write, which changes nothing. That, not the lease's clock, is what keeps two
 * actors from both acting on one token: the lease only keeps them from trying.
 */
export class FencedEntry {
  /** Whether this actor has given the lease up since its last write (a second release writes nothing). */
  private released = false;

  private constructor(
    private readonly ledger: Ledger,
    private current: LedgerEntry,
    private readonly options: AcquireOptions,
  ) {}

  /** `known`: the entry as just read (by the due index's consistent read), saving a read on the first attempt. */
  static async acquire(ledger: Ledger, secretName: string, options: AcquireOptions, known?: LedgerEntry): Promise<Acquired> {
    // A take-over can lose a race with the holder's own write: read again and retry a few times.
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = attempt === 0 && known ? known : await ledger.get(secretName);
      if (!entry) return { kind: "missing" };
      if (!options.takeOver && !isLeaseFree(entry.lease, options.owner, options.clock.now())) {
        return { kind: "busy", holder: entry.lease?.owner ?? "?" };
      }
      try {
        const written = await ledger.writeState(entry, entry.state, { owner: options.owner, renewedAt: options.clock.now(), ttlMs: options.ttlMs });
        return { kind: "acquired", entry: new FencedEntry(ledger, written, options) };
      } catch (error) {
        if (!(error instanceof LedgerConflictError)) throw error;
        if (!options.takeOver) return { kind: "busy", holder: "another actor" };
      }
    }
    return { kind: "busy", holder: "another actor" };
  }

  get entry(): LedgerEntry {
    return this.current;
  }

  get state(): RotationState {
    return this.current.state;
  }

  /** Writes the state (renewing the lease); throws LedgerConflictError if anyone else wrote since. */
  async write(state: RotationState): Promise<void> {
    this.current = await this.ledger.writeState(this.current, this.scheduled(state), this.lease());
    this.released = false;
  }

  /**
   * Whether the entry is still this actor's (one consistent read): asked before an action that cannot be undone (a
   * mint, a revocation), so that an actor taken over since its last write does not act at all. Throws
   * LedgerConflictError if another actor wrote since.
   */
  async check(): Promise<void> {
    const now = await this.ledger.get(this.current.declaration.secretName);
    if (now?.version !== this.current.version) throw new LedgerConflictError(this.current.declaration.secretName, this.current.version);
  }

  /** Renews the lease only. */
  renew(): Promise<void> {
    return this.write(this.current.state);
  }

  /** Whether the lease has less than `safetyMs` left by this actor's own clock (its own renewals are on the same clock). */
  expiresWithin(safetyMs: number): boolean {
    const lease = this.current.lease;
    if (!lease) return true;
    return this.options.clock.now().getTime() > lease.renewedAt.getTime() + lease.ttlMs - safetyMs;
  }

  /** Gives the lease up, writing `state` if given. A lease already lost is left to its new holder. */
  async release(state?: RotationState): Promise<void> {
    if (this.released && state === undefined) return;
    try {
      this.current = await this.ledger.writeState(this.current, this.scheduled(state ?? this.current.state), undefined);
      this.released = true;
    } catch (error) {
      if (!(error instanceof LedgerConflictError)) throw error;
    }
  }

  /** Every write keeps the entry on the due index early enough for its sweeps. */
  private scheduled(state: RotationState): RotationState {
    return withSweepDeadlines(state, this.options.clock.now(), this.options.ttlMs);
  }

  private lease() {
    return { owner: this.options.owner, renewedAt: this.options.clock.now(), ttlMs: this.options.ttlMs };
  }
}
