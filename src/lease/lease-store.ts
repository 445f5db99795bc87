/**
 * Mutual exclusion per token between rotator runs (schedulers deliver at least once, so two runs can overlap).
 * A lease expires on its own, so a run that crashes while holding one blocks the token only until then.
 */
export interface Lease {
  readonly key: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

export interface LeaseStore {
  /** Takes the lease if it is free, expired, or already ours (a renewal); undefined if another owner holds it. */
  acquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | undefined>;
  /**
   * Takes the lease whoever holds it: the leak response's way to stop a scheduled run, which renews its lease
   * before every step and stops when it finds the lease gone.
   */
  takeOver(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease>;
  /** Gives the lease up if it is still ours; a lease lost to expiry is left to its new owner. */
  release(lease: Lease): Promise<void>;
}
