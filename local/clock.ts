import { Clock } from "../src/domain/clock";

/**
 * A clock that runs ahead of real time by `offsetMs`: the local run and the tests move it (and the reference
 * gateway's, through its test control) so that weeks of TTL pass in seconds.
 */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}
