/** Summary statistics of repeated measurements. Medians, because the machine is shared and outliers are noise. */

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sum(samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0);
}

export function min(samples: readonly number[]): number {
  return samples.length ? Math.min(...samples) : Number.NaN;
}

export function max(samples: readonly number[]): number {
  return samples.length ? Math.max(...samples) : Number.NaN;
}

/** Milliseconds since an arbitrary origin, monotonic. */
export function nowMs(): number {
  return performance.now();
}

/** Times `work` and returns its result with the elapsed milliseconds. */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = nowMs();
  const result = await work();
  return { result, ms: nowMs() - start };
}
