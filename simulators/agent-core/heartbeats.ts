import type { Clock } from '../../lib/clock.js';
import type { AgentTimers } from './timers.js';

/**
 * The certificate-authenticated topology heartbeat. With `bounds` (omsagent's in_heartbeat_request)
 * the next one waits for the interval the last response's queryInterval asked for, when it is
 * within the bounds (otherwise the interval stays); the wait starts when a heartbeat ends. Without
 * bounds it runs at a fixed interval.
 */
export class TopologyHeartbeat {
  private intervalMs: number;

  constructor(
    private readonly deps: {
      timers: AgentTimers;
      intervalMs: number;
      bounds?: { min: number; max: number };
      onboarded(): boolean;
      closed(): boolean;
      /** Sends one heartbeat; resolves with the response's queryInterval, if any (never rejects). */
      beat(): Promise<{ queryIntervalMs?: number }>;
    },
  ) {
    this.intervalMs = deps.intervalMs;
  }

  /** The interval the next heartbeat waits for. */
  get currentIntervalMs(): number {
    return this.intervalMs;
  }

  start(): void {
    const d = this.deps;
    if (this.intervalMs <= 0) return;
    if (!d.bounds) {
      d.timers.every(this.intervalMs, () => {
        if (d.onboarded()) void d.timers.track(d.beat());
      });
      return;
    }
    this.next();
  }

  private next(): void {
    const d = this.deps;
    if (d.closed()) return;
    d.timers.after(this.intervalMs, () => {
      if (!d.onboarded()) return this.next();
      void d.timers.track(
        d.beat().then((res) => {
          const q = res.queryIntervalMs;
          if (q !== undefined && d.bounds && q >= d.bounds.min && q <= d.bounds.max) this.intervalMs = q;
          this.next();
        }),
      );
    });
  }
}

/**
 * The heartbeat row (omsagent's HEALTH_ASSESSMENT_BLOB), every `intervalMs` of the agent's clock:
 * on a schedule once started, and for runOnce on its first call and then when one is due, so a load
 * that calls runOnce every 6 s sends one a minute as the real agent does, not one per cycle.
 * With `intervalMs` 0 there is no schedule and runOnce adds one on every call.
 */
export class HeartbeatRows {
  private lastAt?: number;

  constructor(private readonly deps: { timers: AgentTimers; clock: Clock; intervalMs: number; create(): void }) {}

  start(): void {
    const d = this.deps;
    if (d.intervalMs > 0) d.timers.every(d.intervalMs, () => this.create());
  }

  /** For runOnce: creates the row when one is due. */
  createIfDue(): void {
    const d = this.deps;
    if (d.intervalMs <= 0 || this.lastAt === undefined || d.clock.now() - this.lastAt >= d.intervalMs) this.create();
  }

  private create(): void {
    this.lastAt = this.deps.clock.now();
    this.deps.create();
  }
}
