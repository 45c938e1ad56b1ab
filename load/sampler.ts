import { newHistogram, recordUs } from '../harness/driver/stats.js';
import { isLoopbackHost } from '../harness/driver/loopback.js';
import type { DriverResult, DriverSample, Endpoint } from '../harness/driver/types.js';
import type { AccuracySample, GatewayCounterValues, TruthValues } from './accuracy.js';
import type { ProbePacer } from './probes.js';
import type { TimelinePoint } from './report/types.js';
import { SsSession } from './truth/ss-session.js';

async function readCounters(adminUrl: string): Promise<GatewayCounterValues> {
  const res = await fetch(`${adminUrl}/api/counters`);
  if (!res.ok) throw new Error(`GET ${adminUrl}/api/counters answered ${res.status}`);
  const c = (await res.json()) as GatewayCounterValues;
  return { activeClientConnections: c.activeClientConnections, connectedClients: c.connectedClients, rejectionCount: c.rejectionCount, errorCount: c.errorCount };
}

const agree = (g: GatewayCounterValues, t: TruthValues): boolean =>
  g.activeClientConnections === t.openConnections && g.connectedClients === t.distinctSources && g.rejectionCount === t.rejectionsCaused && g.errorCount === t.errorsCaused;

/**
 * What a load run measures while it runs: requests and their latency, errors by kind, the
 * harness's ground truth (open connections, distinct sources, rejections and errors caused) and,
 * with a management API, the gateway's counters next to it — one timeline point at a time.
 */
export class LoadSampler {
  readonly timeline: TimelinePoint[] = [];
  readonly accuracySamples: AccuracySample[] = [];
  readonly errorsByKind: Record<string, number> = {};
  /** Source addresses of agent tunnels and autocannon (probe sources are the pacer's). */
  readonly sources = new Set<string>();
  /** Latency of every request or agent cycle (µs), and of those since the last point. */
  readonly latency = newHistogram();
  private readonly interval = newHistogram();
  requests = 0;
  driverSample?: DriverSample;
  driverResult?: DriverResult;
  agentsUp: () => number | undefined = () => undefined;
  /** Count only client sockets from this /16 (a shard's agents, when other shards share the machine). */
  ownSources?: [number, number];
  private lastRequests = 0;
  private lastT = 0;
  /** The kernel's socket table through one long-lived ss session (started on the first read, ended by close()). */
  private readonly sockets = new SsSession();

  constructor(private readonly o: { started: number; proxy: Endpoint; adminUrl?: string; settleMs: number; probes: ProbePacer; log: (line: string) => void; agentCount?: number }) {}

  addError(kind: string): void {
    this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + 1;
  }

  /** One request (or agent cycle) done, started at `t0` (process.hrtime.bigint()); returns its µs. */
  requestDone(t0: bigint): number {
    const us = Number((process.hrtime.bigint() - t0) / 1000n);
    this.recordLatencyUs(us);
    return us;
  }

  /** One request (or agent cycle) of `us` µs (--processes: its agent processes report their cycles). */
  recordLatencyUs(us: number): void {
    recordUs(this.latency, us);
    recordUs(this.interval, us);
    this.requests++;
  }

  async truth(): Promise<TruthValues> {
    const p = this.o.probes;
    let open: number | undefined;
    if (isLoopbackHost(this.o.proxy.host)) {
      this.sockets.start();
      open = await this.sockets.established(this.o.proxy.port, this.o.proxy.host, this.ownSources);
    }
    return {
      openConnections: open ?? this.driverSample?.open ?? 0,
      distinctSources: this.sources.size + p.sources.size + (this.driverSample?.sources ?? 0),
      rejectionsCaused: p.tally.rejectionsCaused + (this.driverResult?.errors['connect_403'] ?? 0),
      errorsCaused: p.tally.errorsCaused,
    };
  }

  /** Ends the ss session; a later truth() starts a new one. */
  close(): void {
    this.sockets.close();
  }

  /**
   * Adds a timeline point. At a quiescent point the gateway may still be processing the last
   * closes: it gets settleMs to agree, with the truth read on both sides of the counter read.
   */
  async point(quiescent: boolean, label?: string): Promise<void> {
    const t = Date.now() - this.o.started;
    let gateway: GatewayCounterValues | undefined;
    let truth: TruthValues | undefined;
    if (this.o.adminUrl) {
      const until = Date.now() + (quiescent ? this.o.settleMs : 0);
      for (;;) {
        // A quiescent point needs the truth on both sides of the counter read (the previous round's
        // "after" is this round's "before"); a progress point reads it once.
        const before = quiescent ? (truth ?? (await this.truth())) : undefined;
        try {
          gateway = await readCounters(this.o.adminUrl);
        } catch (err) {
          this.addError('counters_unreadable');
          this.o.log(`cannot read counters: ${(err as Error).message}`);
          gateway = undefined;
        }
        truth = await this.truth();
        const settled = gateway && JSON.stringify(before) === JSON.stringify(truth) && agree(gateway, truth);
        if (!quiescent || settled || !gateway || Date.now() >= until) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } else {
      truth = await this.truth();
    }
    const rps = ((this.requests - this.lastRequests) * 1000) / Math.max(1, t - this.lastT);
    this.lastRequests = this.requests;
    this.lastT = t;
    const p99Us = this.driverSample ? this.driverSample.p99Us : this.interval.totalCount ? Math.min(this.interval.getValueAtPercentile(99), this.interval.maxValue) : 0;
    this.interval.reset();
    const errors = Object.values(this.errorsByKind).reduce((a, b) => a + b, 0) + (this.driverSample?.errors ?? 0);
    const agentsUp = this.agentsUp();
    this.timeline.push({ t, quiescent, label, gateway, truth, requestsPerSec: Math.round(rps), p99Us, errors, agentsUp });
    if (gateway) this.accuracySamples.push({ t, quiescent, label, gateway, truth });
    const g = gateway;
    this.o.log(
      `${(t / 1000).toFixed(1)}s${quiescent ? ' [quiescent' + (label ? ` ${label}` : '') + ']' : ''} ` +
        (agentsUp !== undefined ? `agents up ${agentsUp}/${this.o.agentCount} ` : '') +
        `req/s ${Math.round(rps)} p99 ${(p99Us / 1000).toFixed(1)} ms errors ${errors} | ` +
        `active ${g?.activeClientConnections ?? '-'}/${truth.openConnections} clients ${g?.connectedClients ?? '-'}/${truth.distinctSources} ` +
        `rejections ${g?.rejectionCount ?? '-'}/${truth.rejectionsCaused} errors ${g?.errorCount ?? '-'}/${truth.errorsCaused} (gateway/truth)`,
    );
  }
}
