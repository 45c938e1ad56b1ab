/** The longest delay node's setTimeout honours (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Exponential backoff with jitter: attempt n waits min(maxMs, initialMs * factor^n), scaled by a
 * random factor in [1 - jitter, 1 + jitter] (seeded, so runs are reproducible). A server's
 * Retry-After wins when it asks for longer (up to MAX_TIMER_MS).
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly opts: { initialMs: number; maxMs: number; factor?: number; jitter?: number; random: () => number },
  ) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs)) throw new Error(`backoff needs 0 < initialMs <= maxMs, got ${opts.initialMs}, ${opts.maxMs}`);
    const j = opts.jitter ?? 0.2;
    if (!(j >= 0 && j < 1)) throw new Error(`backoff jitter must be in [0, 1), got ${j}`);
  }

  /** Delay before the next attempt after one more failure. */
  next(retryAfterMs?: number): number {
    const factor = this.opts.factor ?? 2;
    const jitter = this.opts.jitter ?? 0.2;
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * factor ** this.failures);
    this.failures++;
    const delay = Math.round(base * (1 - jitter + 2 * jitter * this.opts.random()));
    const wanted = retryAfterMs !== undefined && retryAfterMs > delay ? retryAfterMs : delay;
    // A timer beyond this fires at once in node: a huge Retry-After would turn into an immediate retry.
    return Math.min(wanted, MAX_TIMER_MS);
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
