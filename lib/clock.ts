import { createClock } from '@sinonjs/fake-timers';

/** Opaque timer handle; only ever passed back to the clock that created it. */
export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout | number;

/**
 * Everything periodic (heartbeats, uploads, the daily counter reset, backoff) takes a Clock,
 * so tests drive time with a ManualClock instead of sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref?.();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** What a ManualClock advance may wait for before it moves time past an instant at which timers fired. */
export interface AdvanceOptions {
  /**
   * Resolves when the work the fired timers started (real I/O: an agent's upload) has finished.
   * Without it, timers keep firing while that I/O is in flight, so how far the clock has run when an
   * answer arrives depends on the machine's speed, and so does the schedule it plans from.
   */
  idle?: () => Promise<void>;
}

/** A clock that only moves when told to; backed by @sinonjs/fake-timers without touching globals. */
export class ManualClock implements Clock {
  private readonly fake: ReturnType<typeof createClock>;
  /** When each pending timer fires next (the fake clock does not say). */
  private readonly dueAt = new Map<TimerHandle, number>();

  constructor(start: number | Date = Date.UTC(2016, 2, 1, 9, 0, 0)) {
    this.fake = createClock(typeof start === "number" ? start : start.getTime());
  }

  now(): number {
    return this.fake.now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = this.fake.setTimeout(() => {
      this.dueAt.delete(handle);
      fn();
    }, ms) as unknown as TimerHandle;
    this.dueAt.set(handle, this.now() + Math.max(0, ms));
    return handle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.fake.clearTimeout(handle as never);
    this.dueAt.delete(handle);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const handle = this.fake.setInterval(() => {
      this.dueAt.set(handle, this.now() + ms);
      fn();
    }, ms) as unknown as TimerHandle;
    this.dueAt.set(handle, this.now() + ms);
    return handle;
  }
  clearInterval(handle: TimerHandle): void {
    this.fake.clearInterval(handle as never);
    this.dueAt.delete(handle);
  }

  /**
   * Moves time forward, firing due timers in order and letting promises they start settle. With
   * `idle`, time stands still after each instant at which timers fired until `idle()` resolves, as if
   * the work they started took no clock time; the last instant's work may still run on return.
   */
  async advance(ms: number, opts: AdvanceOptions = {}): Promise<void> {
    const target = this.now() + ms;
    if (opts.idle) {
      for (let next = this.nextDue(); next !== undefined && next < target; next = this.nextDue()) {
        await this.fake.tickAsync(next - this.now());
        await opts.idle();
      }
    }
    await this.fake.tickAsync(target - this.now());
  }

  /** Jumps to an absolute time (must not be in the past). */
  async advanceTo(epochMs: number): Promise<void> {
    if (epochMs < this.now()) throw new Error(`ManualClock cannot go back in time (${new Date(epochMs).toISOString()} < now)`);
    await this.advance(epochMs - this.now());
  }

  /** Number of timers waiting to fire. */
  pendingTimers(): number {
    return this.fake.countTimers();
  }

  private nextDue(): number | undefined {
    let first: number | undefined;
    for (const at of this.dueAt.values()) if (first === undefined || at < first) first = at;
    return first;
  }
}

/** A clock that runs `speed` times faster than real time (for accelerated fleets in CLI runs). */
export class ScaledClock implements Clock {
  private readonly origin = Date.now();
  constructor(private readonly speed: number, private readonly startAt = Date.now()) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be a positive number, got ${speed}`);
  }
  now(): number {
    return this.startAt + (Date.now() - this.origin) * this.speed;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return systemClock.setTimeout(fn, ms / this.speed);
  }
  clearTimeout(h: TimerHandle): void {
    systemClock.clearTimeout(h);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return systemClock.setInterval(fn, ms / this.speed);
  }
  clearInterval(h: TimerHandle): void {
    systemClock.clearInterval(h);
  }
}
