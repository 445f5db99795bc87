/** Samples this process's resident set size while work runs: the peak, and what it was before. */
export class RssSampler {
  readonly baselineBytes = process.memoryUsage.rss();
  private peak = this.baselineBytes;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 20) {
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, process.memoryUsage.rss());
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops sampling; returns the peak in bytes (sampled, and never below the baseline). */
  stop(): number {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
    return this.peak;
  }
}

export const MiB = 2 ** 20;
