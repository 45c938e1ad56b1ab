/** Upper bounds (ms) of the connect-to-upstream latency buckets, shared with /metrics (in seconds). */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface LatencySnapshot {
  count: number;
  sumMs: number;
  maxMs: number;
  /** Cumulative counts keyed by upper bound in ms, plus "+Inf". */
  buckets: Record<string, number>;
}

/** Cumulative-bucket histogram of how long upstream connects took (as reported in /api/counters). */
export class LatencyHistogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private count = 0;
  private sum = 0;
  private max = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]) i++;
    this.counts[i]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  snapshot(): LatencySnapshot {
    const buckets: Record<string, number> = {};
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((le, i) => {
      cumulative += this.counts[i];
      buckets[String(le)] = cumulative;
    });
    buckets['+Inf'] = cumulative + this.counts[LATENCY_BUCKETS_MS.length];
    return { count: this.count, sumMs: Math.round(this.sum * 1000) / 1000, maxMs: Math.round(this.max * 1000) / 1000, buckets };
  }
}
