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
