import type { Clock, TimerHandle } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** "HH:MM" (24h, UTC) → minutes after midnight; InputError naming `where` otherwise. */
export function parseResetTime(value: string, where: string): number {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(value);
  if (!m) throw new InputError(`${where} must be a UTC time of day "HH:MM" (00:00 to 23:59), got ${JSON.stringify(value)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** The first reset instant strictly after `now` for a daily reset at `minutes` past UTC midnight. */
export function nextResetAfter(now: number, minutes: number): number {
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  let at = midnight + minutes * 60_000;
  if (at <= now) at += DAY_MS;
  return at;
}

/**
 * "Connected Client" as the 2016 preview counted it: distinct source IPs seen since the last daily
 * reset. It never drops when an agent goes away; only the reset (once a day, at resetMinutes UTC) clears it.
 */
export class DailyDistinctClients {
  private readonly seen = new Set<string>();
  private nextReset: number;
  private lastReset?: number;
  private timer?: TimerHandle;

  constructor(private readonly clock: Clock, private readonly resetMinutes: number, private readonly onReset?: (cleared: number, at: number) => void) {
    this.nextReset = nextResetAfter(clock.now(), resetMinutes);
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  record(ip: string): void {
    this.catchUp();
    this.seen.add(ip);
  }

  count(): number {
    this.catchUp();
    return this.seen.size;
  }

  get nextResetAt(): number {
    return this.nextReset;
  }

  get lastResetAt(): number | undefined {
    return this.lastReset;
  }

  private schedule(): void {
    this.stop();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.catchUp();
      this.schedule();
    }, Math.max(0, this.nextReset - this.clock.now()));
  }

  /** Applies a reset that is due; reading the counter is correct even if a timer has not fired yet. */
  private catchUp(): void {
    const now = this.clock.now();
    if (now < this.nextReset) return;
    const cleared = this.seen.size;
    this.seen.clear();
    this.lastReset = this.nextReset;
    this.nextReset = nextResetAfter(now, this.resetMinutes);
    this.onReset?.(cleared, this.lastReset);
  }
}
