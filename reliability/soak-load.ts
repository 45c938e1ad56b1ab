import type tls from 'node:tls';
import { driverSecureContext, openDriverTunnel } from '../harness/driver/tunnel.js';
import type { DriverOptions } from '../harness/driver/types.js';
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';

/**
 * Paced tunnel churn for the soak: a steady number of new tunnels per second (CONNECT, TLS 1.2
 * handshake with a client certificate, one small request, close), never more than `maxInFlight`
 * at once. Paced rather than flat out, so a long soak measures leaks without hogging shared cores.
 */
export interface PacedChurnOptions {
  proxy: { host: string; port: number };
  target: { host: string; port: number };
  tls: DriverOptions['tls'];
  ratePerSecond: number;
  maxInFlight: number;
  clock?: Clock;
}

export interface PacedChurnResult {
  started: number;
  completed: number;
  /** Ticks skipped because maxInFlight tunnels were still busy (the gateway fell behind). */
  skipped: number;
  errors: number;
  errorKinds: Record<string, number>;
}

export class PacedChurn {
  private timer: TimerHandle | undefined;
  private inFlight = 0;
  private readonly result: PacedChurnResult = { started: 0, completed: 0, skipped: 0, errors: 0, errorKinds: {} };
  private readonly clock: Clock;
  private readonly context: tls.SecureContext;
  private readonly sockets = new Set<tls.TLSSocket>();
  private idle: (() => void) | undefined;

  constructor(private readonly o: PacedChurnOptions) {
    if (!(o.ratePerSecond > 0 && o.ratePerSecond <= 1000)) throw new Error(`ratePerSecond must be 1-1000, got ${o.ratePerSecond}`);
    if (!(Number.isInteger(o.maxInFlight) && o.maxInFlight >= 1)) throw new Error(`maxInFlight must be a positive integer, got ${o.maxInFlight}`);
    this.clock = o.clock ?? systemClock;
    this.context = driverSecureContext(o.tls);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setInterval(() => this.tick(), 1000 / this.o.ratePerSecond);
  }

  /** Stops starting tunnels and waits for those in flight. */
  async stop(): Promise<PacedChurnResult> {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
    return { ...this.result, errorKinds: { ...this.result.errorKinds } };
  }

  private tick(): void {
    if (this.inFlight >= this.o.maxInFlight) {
      this.result.skipped++;
      return;
    }
    this.inFlight++;
    this.result.started++;
    this.once()
      .then(() => this.result.completed++)
      .catch((err: Error & { kind?: string }) => {
        this.result.errors++;
        const kind = err.kind ?? err.message;
        this.result.errorKinds[kind] = (this.result.errorKinds[kind] ?? 0) + 1;
      })
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0 && this.idle) this.idle();
      });
  }

  private async once(): Promise<void> {
    const noop = () => undefined;
    const options = { mode: 'churn', proxy: this.o.proxy, target: this.o.target, tls: this.o.tls, connections: 1, durationMs: 1, timeoutMs: 10_000 } as DriverOptions;
    const socket = await openDriverTunnel(options, undefined, { opened: noop, closed: noop, connectStatus: noop }, this.context);
    this.sockets.add(socket);
    try {
      await new Promise<void>((resolve, reject) => {
        let got = '';
        const timer = setTimeout(() => reject(Object.assign(new Error('no response within 10 s'), { kind: 'timeout' })), 10_000);
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => {
          got += d;
          // The bench upstream answers a small request with Content-Length: 2 and body "ok".
          if (got.includes('\r\n\r\nok')) {
            clearTimeout(timer);
            resolve();
          }
        });
        socket.once('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        socket.once('close', () => {
          clearTimeout(timer);
          if (!got.includes('\r\n\r\nok')) reject(Object.assign(new Error('closed before the response'), { kind: 'closed' }));
        });
        socket.write(`GET /soak HTTP/1.1\r\nHost: ${this.o.target.host}\r\n\r\n`);
      });
    } finally {
      socket.destroy();
      this.sockets.delete(socket);
    }
  }
}
