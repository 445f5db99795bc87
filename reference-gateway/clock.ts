import type { Clock } from "../src/domain/clock";

/**
 * The gateway's clock: the system clock plus an adjustable offset. Everything that compares against time
 * (expiry, createdAt, the request log, the `since` filter) reads it, so a test can shift it with
 * `POST /_test/clock` and make weeks of TTL pass without touching the system clock. The offset is absolute
 * (set, not added), so tests stay repeatable.
 */
export class OffsetClock implements Clock {
  #offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  setOffset(offsetMs: number): void {
    this.#offsetMs = offsetMs;
  }
}
