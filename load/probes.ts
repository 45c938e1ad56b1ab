import type { Clock } from '../lib/clock.js';
import { sendConnect, type Endpoint } from '../lib/connect/index.js';

/**
 * Deliberate, known-outcome CONNECTs: to a forbidden host (expected 403 → Rejection Count) or to
 * an allowed host mapped to a closed port (expected 502/504 → Error Count). Each opens one
 * connection from `localAddress` with the harness's CONNECT client, reads the status line and closes.
 */
export async function probeConnect(proxy: { host: string; port: number }, target: string, localAddress: string | undefined, timeoutMs = 10_000): Promise<number | 'error'> {
  try {
    const answer = await sendConnect({ proxy, authority: target, localAddress, timeoutMs });
    answer.socket.destroy();
    return answer.status ?? 'error';
  } catch {
    return 'error';
  }
}

export interface ProbeTally {
  forbiddenSent: number;
  rejectionsCaused: number;
  errorProbesSent: number;
  errorsCaused: number;
  /** Probe outcomes that were not the expected ones, by status. */
  unexpected: Record<string, number>;
}

export function emptyProbeTally(): ProbeTally {
  return { forbiddenSent: 0, rejectionsCaused: 0, errorProbesSent: 0, errorsCaused: 0, unexpected: {} };
}

export const FORBIDDEN_HOST = 'forbidden.omsgw-load.invalid';
export const DEAD_HOST = 'unreachable.omsgw-load.invalid';
const PROBE_SOURCES = { forbidden: '127.9.0.1', error: '127.9.0.2' } as const;
type ProbeKind = keyof typeof PROBE_SOURCES;

/**
 * Sends the deliberate CONNECTs at the asked rates over the whole load window: after t seconds
 * exactly floor(rate × t) of each kind have been sent (counted from the start, so time spent
 * paused at a quiescent point is made up afterwards). A run of 20 s at 2/s sends 40.
 */
export class ProbePacer {
  readonly tally = emptyProbeTally();
  /** Probe source addresses that reached the proxy (they count as Connected Clients). */
  readonly sources = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private startedAt = 0;
  private endAt = 0;
  private paused = false;
  private timer: ReturnType<Clock['setInterval']> | undefined;

  constructor(private readonly o: { proxy: Endpoint; forbiddenRate: number; errorRate: number; clock: Clock; now?: () => number }) {}

  /** Starts the window [now, now + durationMs]; ticks every 100 ms on the run's clock. */
  start(durationMs: number): void {
    const now = this.now();
    this.startedAt = now;
    this.endAt = now + durationMs;
    if (this.o.forbiddenRate > 0 || this.o.errorRate > 0) this.timer = this.o.clock.setInterval(() => this.catchUp(), 100);
  }

  /** Stops sending new probes and waits for those in flight (a quiescent point needs none). */
  async pause(): Promise<void> {
    this.paused = true;
    await Promise.all([...this.inFlight]);
  }

  resume(): void {
    this.paused = false;
    this.catchUp();
  }

  /** Sends what the window still owes (the load may end before its last tick), then waits for every probe. */
  async finish(): Promise<void> {
    if (this.timer) this.o.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.paused = false;
    this.catchUp();
    this.paused = true;
    await Promise.all([...this.inFlight]);
  }

  close(): void {
    if (this.timer) this.o.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** How many of a kind are owed by now: floor(rate × elapsed), elapsed capped at the window's end. */
  private owed(rate: number, sent: number): number {
    const elapsedMs = Math.min(this.now(), this.endAt) - this.startedAt;
    return Math.max(0, Math.floor((rate * elapsedMs) / 1000 + 1e-9) - sent);
  }

  private catchUp(): void {
    if (this.paused || this.startedAt === 0) return;
    for (let n = this.owed(this.o.forbiddenRate, this.tally.forbiddenSent); n > 0; n--) this.fire('forbidden');
    for (let n = this.owed(this.o.errorRate, this.tally.errorProbesSent); n > 0; n--) this.fire('error');
  }

  private fire(kind: ProbeKind): void {
    const target = kind === 'forbidden' ? `${FORBIDDEN_HOST}:443` : `${DEAD_HOST}:443`;
    const src = PROBE_SOURCES[kind];
    if (kind === 'forbidden') this.tally.forbiddenSent++;
    else this.tally.errorProbesSent++;
    const p = probeConnect(this.o.proxy, target, src).then((status) => {
      if (status !== 'error') this.sources.add(src);
      if (kind === 'forbidden' && status === 403) this.tally.rejectionsCaused++;
      else if (kind === 'error' && (status === 502 || status === 504)) this.tally.errorsCaused++;
      else this.tally.unexpected[`${kind}_${status}`] = (this.tally.unexpected[`${kind}_${status}`] ?? 0) + 1;
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }
}
