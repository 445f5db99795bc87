import { DEFAULT_RETRY, RetryPolicy } from "../http";

/**
 * Runs `attempt` until it succeeds, `delayFor` says an error is final (undefined), or the policy's attempts run
 * out; then the last error goes on unchanged. `delayFor` returns the gateway's own wait (retryAfterMs) when it
 * named one; the wait used is at least the exponential backoff with full jitter, at most `maxDelayMs`.
 */
export async function withRetries<T>(
  policy: Partial<RetryPolicy> | undefined,
  sleep: (ms: number) => Promise<void>,
  attempt: () => Promise<T>,
  delayFor: (error: unknown) => number | undefined,
): Promise<T> {
  const { maxAttempts, baseDelayMs, maxDelayMs } = { ...DEFAULT_RETRY, ...policy };
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const asked = delayFor(error);
      if (asked === undefined || n >= maxAttempts || asked > maxDelayMs) throw error;
      const backoff = Math.floor(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1)));
      await sleep(Math.max(asked, backoff));
    }
  }
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
