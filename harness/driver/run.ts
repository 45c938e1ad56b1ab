import type tls from 'node:tls';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { Http1Connection, buildRequest } from './http1.js';
import { assertLoopback, assertTunnelTarget } from './loopback.js';
import { ErrorTally, errorKind, newHistogram, recordSince, summarize } from './stats.js';
import { driverSecureContext, openDriverTunnel, type ConnectionObserver } from './tunnel.js';
import type { DriverOptions, DriverResult, DriverSample } from './types.js';

export interface DriverHooks {
  /** Drives the sampling interval and the time bound. */
  clock?: Clock;
  /** idle mode: called once every tunnel is open (or has failed); tunnels stay open until stop() or the time bound. */
  onIdleReady?: (open: number) => void;
  /** Called on every sample (live progress). */
  onSample?: (s: DriverSample) => void;
}

const MODES = new Set(['keepalive', 'churn', 'bulk', 'idle']);

export function validateDriverOptions(o: DriverOptions): void {
  if (!MODES.has(o.mode)) throw new InputError(`mode must be one of keepalive, churn, bulk, idle; got "${o.mode}"`);
  if (o.proxy) assertLoopback(o.proxy.host, 'proxy host');
  else assertLoopback((o.direct ?? o.target).host, 'direct target host');
  assertTunnelTarget(o.target.host);
  for (const a of o.localAddresses ?? []) assertLoopback(a, 'source address');
  if (!Number.isInteger(o.connections) || o.connections < 1 || o.connections > 20000) throw new InputError(`connections must be an integer from 1 to 20000, got ${o.connections}`);
  if (!(o.durationMs > 0) || o.durationMs > 3_600_000) throw new InputError(`duration must be between 1 ms and 1 hour, got ${o.durationMs} ms`);
  if (o.maxRequests !== undefined && (!Number.isInteger(o.maxRequests) || o.maxRequests < 0)) throw new InputError(`maxRequests must be a non-negative integer, got ${o.maxRequests}`);
  for (const [name, v] of [['port', o.target.port], ['proxy port', o.proxy?.port ?? 1]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new InputError(`${name} must be 1-65535, got ${v}`);
  }
}

/**
 * The tunnel load driver: bounded by request count and time, stops by itself, and records
 * latency, errors by kind and the number of open client connections over time.
 */
export class TunnelDriver implements ConnectionObserver {
  private readonly clock: Clock;
  private readonly latency = newHistogram();
  private readonly setup = newHistogram();
  private readonly interval = newHistogram();
  private readonly errors = new ErrorTally();
  private readonly connectStatuses: Record<string, number> = {};
  private readonly samples: DriverSample[] = [];
  private readonly sources = new Set<string>();
  private readonly live = new Set<Http1Connection | tls.TLSSocket>();
  private open = 0;
  private maxOpen = 0;
  private requests = 0;
  private issued = 0;
  private bytes = 0;
  private tunnels = 0;
  private nextSource = 0;
  private stopping = false;
  private exhausted = false;
  private stopWaiters: Array<() => void> = [];
  private closeWaiters: Array<() => void> = [];
  private startedAt = 0;
  private readonly request: Buffer;
  private readonly secureContext: tls.SecureContext;

  constructor(readonly options: DriverOptions, private readonly hooks: DriverHooks = {}) {
    validateDriverOptions(options);
    this.clock = hooks.clock ?? systemClock;
    this.secureContext = driverSecureContext(options.tls);
    const bulk = options.mode === 'bulk';
    this.request = buildRequest({
      method: bulk ? 'GET' : 'POST',
      host: options.target.host,
      path: bulk ? `/bulk?bytes=${options.bulkBytes ?? 1_048_576}` : (options.path ?? '/echo'),
      bodyBytes: bulk ? 0 : (options.bodyBytes ?? 64),
      headers: options.headers,
    });
  }

  // ConnectionObserver
  opened(localAddress: string | undefined): void {
    this.open++;
    if (this.open > this.maxOpen) this.maxOpen = this.open;
    if (localAddress) this.sources.add(localAddress);
  }
  closed(): void {
    this.open--;
    if (this.open === 0) for (const w of this.closeWaiters.splice(0)) w();
  }

  private allClosed(maxMs: number): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, maxMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  connectStatus(status: string): void {
    this.connectStatuses[status] = (this.connectStatuses[status] ?? 0) + 1;
  }

  /** Client TCP connections open right now (ground truth for Active Client Connection). */
  openNow(): number {
    return this.open;
  }
  errorsNow(): Record<string, number> {
    return { ...this.errors.byKind };
  }
  requestsNow(): number {
    return this.requests;
  }
  distinctSources(): string[] {
    return [...this.sources];
  }

  private released = false;
  private onRelease: () => void = () => undefined;

  /** idle with holdUntilReleased: the caller is done measuring; the hold may end (now, or once durationMs is up). */
  release(): void {
    this.released = true;
    this.onRelease();
  }

  /** Ends the run early (idle: releases the held tunnels). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const w of this.stopWaiters.splice(0)) w();
  }

  async run(): Promise<DriverResult> {
    const o = this.options;
    this.startedAt = this.clock.now();
    const t0 = process.hrtime.bigint();
    // idle: durationMs is how long the tunnels are held once open; opening gets up to 2 more minutes.
    const deadline = this.clock.setTimeout(() => this.stop(), o.mode === 'idle' ? o.durationMs + 120_000 : o.durationMs);
    const sampler = this.clock.setInterval(() => this.sample(), o.sampleIntervalMs ?? 1000);
    try {
      if (o.mode === 'idle') await this.runIdle();
      else await Promise.all(Array.from({ length: o.connections }, (_, i) => (o.mode === 'churn' ? this.churnLoop() : this.keepAliveLoop(i))));
    } finally {
      this.clock.clearTimeout(deadline as TimerHandle);
      this.clock.clearInterval(sampler as TimerHandle);
      for (const c of this.live) c.destroy();
      this.live.clear();
    }
    // Let close events from the sockets just destroyed reach the open-connection count.
    await this.allClosed(2000);
    this.sample();
    const durationMs = Number(process.hrtime.bigint() - t0) / 1e6;
    return {
      mode: o.mode,
      durationMs: Math.round(durationMs),
      requests: this.requests,
      tunnelsEstablished: this.tunnels,
      bytesReceived: this.bytes,
      requestsPerSec: Math.round((this.requests / durationMs) * 1000 * 10) / 10,
      mbPerSec: Math.round((this.bytes / 1e6 / (durationMs / 1000)) * 100) / 100,
      latency: summarize(this.latency),
      setupLatency: summarize(this.setup),
      errors: { ...this.errors.byKind },
      errorTotal: this.errors.total,
      connectStatuses: { ...this.connectStatuses },
      samples: this.samples,
      maxOpen: this.maxOpen,
      sourceAddresses: [...this.sources].sort(),
    };
  }

  private sample(): void {
    const s: DriverSample = {
      t: this.clock.now() - this.startedAt,
      open: this.open,
      requests: this.requests,
      errors: this.errors.total,
      p99Us: this.interval.totalCount ? Math.min(this.interval.getValueAtPercentile(99), this.interval.maxValue) : 0,
      sources: this.sources.size,
    };
    this.interval.reset();
    this.samples.push(s);
    this.hooks.onSample?.(s);
  }

  private budget(): boolean {
    if (this.stopping) return false;
    const max = this.options.maxRequests ?? 0;
    if (max > 0 && this.issued >= max) {
      // Not stop(): requests already granted (maybe waiting on the rate cap) still run.
      this.exhausted = true;
      return false;
    }
    this.issued++;
    return true;
  }

  /** With a rate cap, request number k (counted by budget()) may start at k / rate seconds after the start. */
  private async pace(): Promise<void> {
    const rate = this.options.ratePerSec ?? 0;
    if (rate <= 0) return;
    const due = this.startedAt + ((this.issued - 1) * 1000) / rate;
    const wait = due - this.clock.now();
    if (wait > 0) await this.pause(wait);
  }

  private source(): string | undefined {
    const list = this.options.localAddresses;
    if (!list || list.length === 0) return undefined;
    return list[this.nextSource++ % list.length];
  }

  private async connect(): Promise<Http1Connection> {
    const start = process.hrtime.bigint();
    const socket = await openDriverTunnel(this.options, this.source(), this, this.secureContext);
    recordSince(this.setup, start);
    this.tunnels++;
    return new Http1Connection(socket, this.options.timeoutMs ?? 10_000);
  }

  /** After a failure, wait a little (on the clock) so a refusing proxy is not hammered in a tight loop. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopping) return resolve();
      const onStop = (): void => {
        this.clock.clearTimeout(h);
        resolve();
      };
      const h = this.clock.setTimeout(() => {
        const i = this.stopWaiters.indexOf(onStop);
        if (i >= 0) this.stopWaiters.splice(i, 1);
        resolve();
      }, ms);
      this.stopWaiters.push(onStop);
    });
  }

  private async exchange(conn: Http1Connection, start: bigint): Promise<boolean> {
    try {
      const res = await conn.request(this.request);
      recordSince(this.latency, start);
      recordSince(this.interval, start);
      this.requests++;
      this.bytes += res.bodyBytes;
      if (res.status < 200 || res.status >= 400) this.errors.add(`http_${res.status}`);
      return true;
    } catch (err) {
      this.errors.add(errorKind(err));
      return false;
    }
  }

  private async keepAliveLoop(_i: number): Promise<void> {
    while (!this.stopping && !this.exhausted) {
      let conn: Http1Connection;
      try {
        conn = await this.connect();
      } catch (err) {
        this.errors.add(errorKind(err));
        await this.pause(50);
        continue;
      }
      this.live.add(conn);
      while (!conn.closed && this.budget()) {
        await this.pace();
        if (this.stopping) break;
        if (!(await this.exchange(conn, process.hrtime.bigint()))) break;
      }
      this.live.delete(conn);
      conn.destroy();
    }
  }

  private async churnLoop(): Promise<void> {
    while (this.budget()) {
      await this.pace();
      if (this.stopping) break;
      const start = process.hrtime.bigint();
      let conn: Http1Connection;
      try {
        conn = await this.connect();
      } catch (err) {
        this.errors.add(errorKind(err));
        continue;
      }
      this.live.add(conn);
      await this.exchange(conn, start);
      this.live.delete(conn);
      conn.destroy();
    }
  }

  private async runIdle(): Promise<void> {
    const o = this.options;
    let next = 0;
    const opener = async (): Promise<void> => {
      while (!this.stopping && next < o.connections) {
        next++;
        const start = process.hrtime.bigint();
        try {
          const socket = await openDriverTunnel(o, this.source(), this, this.secureContext);
          recordSince(this.setup, start);
          this.tunnels++;
          this.live.add(socket);
          socket.on('error', (err) => this.errors.add(errorKind(err)));
          socket.on('close', () => {
            if (!this.stopping) this.errors.add('idle_closed');
            this.live.delete(socket);
          });
        } catch (err) {
          this.errors.add(errorKind(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.openConcurrency ?? 100, o.connections) }, opener));
    this.sample();
    this.hooks.onIdleReady?.(this.open);
    if (this.stopping) return;
    // With holdUntilReleased the tunnels stay open past durationMs until release(): the caller
    // measures them (reads the gateway's counters) first, however slow the machine is.
    let held = false;
    const hold = this.clock.setTimeout(() => {
      held = true;
      if (!o.holdUntilReleased || this.released) this.stop();
    }, o.durationMs);
    this.onRelease = () => {
      if (held) this.stop();
    };
    await new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    this.clock.clearTimeout(hold);
  }
}

/** Runs the driver in this process. */
export function runDriver(options: DriverOptions, hooks?: DriverHooks): Promise<DriverResult> {
  return new TunnelDriver(options, hooks).run();
}
