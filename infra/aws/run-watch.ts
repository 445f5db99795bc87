/**
 * How a deployment notices that scheduled runs stopped or failed: the heartbeat alarm's window and the function's
 * asynchronous invocation settings, both derived from the schedule so that they follow it when it changes.
 */
import { parseDuration } from "../../src/domain/duration";

/** CloudWatch judges at most one day: period × evaluationPeriods may not exceed 86,400 seconds. */
export const MAX_ALARM_RANGE_SECONDS = 86_400;

/** How the heartbeat alarm reads "no run completed within two schedule periods". */
export interface HeartbeatWindow {
  /** The alarm's period: one schedule interval (a multiple of 60 s, as CloudWatch wants for periods of a minute or more). */
  readonly periodSeconds: number;
  /** Periods judged; all of them must lack a heartbeat for the alarm to fire. */
  readonly evaluationPeriods: number;
}

const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86400 } as const;

/** The interval of a `rate(...)` expression in seconds; undefined for a cron expression. */
export function rateIntervalSeconds(schedule: string): number | undefined {
  const rate = /^rate\(([1-9][0-9]*) (minute|hour|day)s?\)$/.exec(schedule);
  return rate ? Number(rate[1]) * UNIT_SECONDS[rate[2] as keyof typeof UNIT_SECONDS] : undefined;
}

/**
 * The heartbeat alarm's window for a schedule. A rate schedule of up to 12 hours is watched over two of its
 * intervals. A longer rate (one day) is watched over the one day CloudWatch allows. A cron schedule has no single
 * interval (weekdays only, business hours...), so it needs `heartbeatWindow`: the longest time without a completed
 * run that is still normal, at most one day, watched as two halves. Returns the problem, with its fix, otherwise.
 */
export function heartbeatWindow(schedule: string, window: string | undefined): HeartbeatWindow | { readonly problem: string } {
  if (window !== undefined) {
    const seconds = parseDuration(window);
    if (seconds === undefined || seconds < 120 || seconds > MAX_ALARM_RANGE_SECONDS || seconds % 120 !== 0) {
      return { problem: `${JSON.stringify(window)} is not a heartbeat window; write a duration from 2m to 1d in whole minutes, even, such as "2h" (CloudWatch judges at most one day)` };
    }
    return { periodSeconds: seconds / 2, evaluationPeriods: 2 };
  }
  const interval = rateIntervalSeconds(schedule);
  if (interval === undefined) {
    return { problem: `a cron schedule (${schedule}) has no fixed interval; set heartbeatWindow to the longest normal gap between runs, e.g. "2h" (at most 1d)` };
  }
  if (2 * interval <= MAX_ALARM_RANGE_SECONDS) return { periodSeconds: interval, evaluationPeriods: 2 };
  if (interval <= MAX_ALARM_RANGE_SECONDS) return { periodSeconds: MAX_ALARM_RANGE_SECONDS, evaluationPeriods: 1 };
  return { problem: `${schedule} runs less than once a day, longer than a CloudWatch alarm can watch; run at least daily (a due token waits for the next run)` };
}

/**
 * Lambda's own retries of a failed asynchronous (scheduled) run: none. A run is idempotent and resumable from
 * durable state, so the next scheduled run is the retry; Lambda's two extra attempts, one and two minutes later,
 * would repeat a failure whose cause (gateway down, permissions, a bad deployment) is still there, triple the
 * admin calls to the gateway, and hold the failure back from the on-failure queue for minutes.
 */
export const ASYNC_RETRY_ATTEMPTS = 0;

/** Lambda's bounds for maximumEventAgeInSeconds. */
const EVENT_AGE_BOUNDS = { min: 60, max: 21_600 } as const;

/**
 * How long a scheduled event may wait in Lambda's queue (throttling, concurrency): one heartbeat period, i.e. one
 * schedule interval. An older event has been overtaken by the next scheduled one, so it is not run late but sent
 * to the on-failure queue, where the failed-runs alarm sees it.
 */
export function maximumEventAgeSeconds(window: HeartbeatWindow): number {
  return Math.min(EVENT_AGE_BOUNDS.max, Math.max(EVENT_AGE_BOUNDS.min, window.periodSeconds));
}
