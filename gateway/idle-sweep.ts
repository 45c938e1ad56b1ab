import type { Clock, TimerHandle } from '../lib/clock.js';

/** Something the sweep can close when it has been quiet too long (a tunnel). */
export interface Sweepable {
  /** Set by the member on any traffic; the sweep reads and clears it. */
  active: boolean;
  /** Clock time the sweep last saw the member active (or added it). Owned by the sweep. */
  quietSince: number;
  /** Called once, after the member was removed from the sweep. */
  expire(): void;
}

/** The sweep looks this many times per timeout, so a quiet member goes between 1 and 1.2 timeouts after its last traffic. */
const SWEEPS_PER_TIMEOUT = 10;

/**
 * Closes members with no traffic for `timeoutMs`, with one timer for all of them instead of one
 * per socket (a Timeout, a bound callback and a listener per tunnel, refreshed on every chunk).
 *
 * A member only sets a flag on traffic. Each sweep, a flagged member is cleared and marked quiet
 * from now (the traffic was at or before now), and a member quiet for `timeoutMs` expires. So it
 * never expires before `timeoutMs` of silence, and at most two sweep intervals after it.
 * The timer runs only while there are members.
 */
export class IdleSweep {
  private readonly members = new Set<Sweepable>();
  private readonly intervalMs: number;
  private timer?: TimerHandle;

  constructor(private readonly clock: Clock, private readonly timeoutMs: number) {
    this.intervalMs = Math.max(1, Math.floor(timeoutMs / SWEEPS_PER_TIMEOUT));
  }

  get size(): number {
    return this.members.size;
  }

  add(m: Sweepable): void {
    m.active = false;
    m.quietSince = this.clock.now();
    this.members.add(m);
    this.timer ??= this.clock.setInterval(() => this.sweep(), this.intervalMs);
  }

  delete(m: Sweepable): void {
    if (this.members.delete(m) && this.members.size === 0) this.stop();
  }

  /** Forgets every member and stops the timer (members are not expired). */
  close(): void {
    this.members.clear();
    this.stop();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const m of this.members) {
      if (m.active) {
        m.active = false;
        m.quietSince = now;
      } else if (now - m.quietSince >= this.timeoutMs) {
        this.members.delete(m);
        m.expire();
      }
    }
    if (this.members.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}
