import type { Clock, TimerHandle } from '../../lib/clock.js';

/**
 * An agent's timers and in-flight work on its injectable clock, so close() can stop every timer
 * and wait for every call it started.
 */
export class AgentTimers {
  private readonly timers = new Set<TimerHandle>();
  private readonly intervals = new Set<TimerHandle>();
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly clock: Clock) {}

  /** Runs fn every ms of clock time; ms <= 0 means never. */
  every(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    this.intervals.add(this.clock.setInterval(fn, ms));
  }

  after(ms: number, fn: () => void): TimerHandle {
    const h = this.clock.setTimeout(() => {
      this.timers.delete(h);
      fn();
    }, ms);
    this.timers.add(h);
    return h;
  }

  clear(h: TimerHandle): void {
    this.clock.clearTimeout(h);
    this.timers.delete(h);
  }

  /** Remembers a promise until it settles, so stop() can wait for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
    return p;
  }

  /** Clears every timer and interval. */
  clearAll(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    for (const t of this.intervals) this.clock.clearInterval(t);
    this.timers.clear();
    this.intervals.clear();
  }

  /** Waits until nothing is tracked, including work that settling work started (a pump that schedules the next). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}

/** One pending retry at a time (a new one replaces the old), with the time it is due. */
export class RetryTimer {
  private handle?: TimerHandle;
  private dueAt?: number;

  constructor(private readonly timers: AgentTimers, private readonly clock: Clock) {}

  /** Epoch ms the retry is due, if one is pending. */
  get nextAt(): number | undefined {
    return this.dueAt;
  }

  set(delay: number, fn: () => void): void {
    this.cancel();
    this.dueAt = this.clock.now() + delay;
    this.handle = this.timers.after(delay, () => {
      this.handle = undefined;
      this.dueAt = undefined;
      fn();
    });
  }

  cancel(): void {
    if (this.handle) this.timers.clear(this.handle);
    this.handle = undefined;
    this.dueAt = undefined;
  }
}
