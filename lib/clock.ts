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

/** A clock that only moves when told to; backed by @sinonjs/fake-timers without touching globals. */
export class ManualClock implements Clock {
  private readonly fake: ReturnType<typeof createClock>;

  constructor(start: number | Date = Date.UTC(2016, 2, 1, 9, 0, 0)) {
    this.fake = createClock(typeof start === "number" ? start : start.getTime());
  }

  now(): number {
    return this.fake.now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.fake.setTimeout(fn, ms) as unknown as TimerHandle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.fake.clearTimeout(handle as never);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.fake.setInterval(fn, ms) as unknown as TimerHandle;
  }
  clearInterval(handle: TimerHandle): void {
    this.fake.clearInterval(handle as never);
  }

  /** Moves time forward, firing due timers in order and letting promises they start settle. */
  async advance(ms: number): Promise<void> {
    await this.fake.tickAsync(ms);
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
