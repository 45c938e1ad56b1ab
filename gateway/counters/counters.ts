import { EventEmitter } from 'node:events';
import type { Clock } from '../../lib/clock.js';
import type { GatewayEvent } from '../events/event-log.js';
import { counterForEvent } from '../statuses.js';
import { ClientWindow } from './client-window.js';
import { DailyDistinctClients } from './daily-distinct-clients.js';
import { LatencyHistogram, type LatencySnapshot } from './latency-histogram.js';

/** The JSON of GET /api/counters. Byte counts are measured on the client side of each connection. */
export interface CountersSnapshot {
  activeClientConnections: number;
  connectedClients: number;
  connectedClientsLastReset: string | null;
  connectedClientsNextReset: string;
  connectedClientsWindow: number;
  connectedClientsWindowMinutes: number;
  rejectionCount: number;
  errorCount: number;
  connectionsTotal: number;
  tunnelsTotal: number;
  tunnelsActive: number;
  /** Bytes received from clients (CONNECT requests plus tunnelled data). */
  bytesIn: number;
  /** Bytes sent to clients (replies plus tunnelled data). */
  bytesOut: number;
  upstreamConnectLatency: LatencySnapshot;
}

export interface CountersOptions {
  clock: Clock;
  resetMinutes: number;
  windowMinutes: number;
  /** Bytes of connections still open, added to the closed ones at snapshot time. */
  liveBytes?: () => { bytesIn: number; bytesOut: number };
  onDailyReset?: (cleared: number, at: number) => void;
}

/** The "OMS Gateway" performance counters, plus throughput and latency extensions. */
export class GatewayCounters extends EventEmitter<{ latency: [number] }> {
  private active = 0;
  private connections = 0;
  private tunnels = 0;
  private tunnelsOpen = 0;
  private rejections = 0;
  private errors = 0;
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  private readonly daily: DailyDistinctClients;
  private readonly window: ClientWindow;
  private readonly latency = new LatencyHistogram();

  constructor(private readonly options: CountersOptions) {
    super();
    this.daily = new DailyDistinctClients(options.clock, options.resetMinutes, options.onDailyReset);
    this.window = new ClientWindow(options.clock, options.windowMinutes * 60_000);
  }

  start(): void {
    this.daily.start();
  }

  stop(): void {
    this.daily.stop();
  }

  clientConnected(ip: string): void {
    this.active++;
    this.connections++;
    this.daily.record(ip);
    this.window.connected(ip);
  }

  clientDisconnected(ip: string, bytesIn: number, bytesOut: number): void {
    this.active--;
    this.closedBytesIn += bytesIn;
    this.closedBytesOut += bytesOut;
    this.window.disconnected(ip);
  }

  tunnelOpened(connectMs: number): void {
    this.tunnels++;
    this.tunnelsOpen++;
    this.latency.observe(connectMs);
    this.emit('latency', connectMs);
  }

  tunnelClosed(): void {
    this.tunnelsOpen--;
  }

  /** Rejection and error counts follow the event log (statuses.ts says which ids count). */
  countEvent(event: GatewayEvent): void {
    const c = counterForEvent(event.id);
    if (c === 'rejectionCount') this.rejections++;
    else if (c === 'errorCount') this.errors++;
  }

  snapshot(): CountersSnapshot {
    const live = this.options.liveBytes?.() ?? { bytesIn: 0, bytesOut: 0 };
    const last = this.daily.lastResetAt;
    return {
      activeClientConnections: this.active,
      connectedClients: this.daily.count(),
      connectedClientsLastReset: last === undefined ? null : new Date(last).toISOString(),
      connectedClientsNextReset: new Date(this.daily.nextResetAt).toISOString(),
      connectedClientsWindow: this.window.count(),
      connectedClientsWindowMinutes: this.options.windowMinutes,
      rejectionCount: this.rejections,
      errorCount: this.errors,
      connectionsTotal: this.connections,
      tunnelsTotal: this.tunnels,
      tunnelsActive: this.tunnelsOpen,
      bytesIn: this.closedBytesIn + live.bytesIn,
      bytesOut: this.closedBytesOut + live.bytesOut,
      upstreamConnectLatency: this.latency.snapshot(),
    };
  }
}
