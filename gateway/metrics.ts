import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayCounters } from './counters/counters.js';
import type { EventLog } from './events/event-log.js';
import { LATENCY_BUCKETS_MS } from './counters/latency-histogram.js';

/**
 * Prometheus exposition of one gateway's counters, in its own Registry (never prom-client's global
 * one, so several gateways can live in one process). Values are read from the counters at scrape time.
 */
export function createMetrics(counters: GatewayCounters, events: EventLog): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  const total = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  // One snapshot per scrape, shared by every collector of that scrape.
  let snap = counters.snapshot();
  let snapAt = 0;
  const s = () => {
    const now = Date.now();
    if (now !== snapAt) {
      snap = counters.snapshot();
      snapAt = now;
    }
    return snap;
  };
  gauge('oms_gateway_active_client_connections', 'Open client TCP connections (perf counter "Active Client Connection")', () => s().activeClientConnections);
  gauge('oms_gateway_connected_clients', 'Distinct client IPs since the last daily reset (perf counter "Connected Client", 2016 preview semantics)', () => s().connectedClients);
  gauge('oms_gateway_connected_clients_window', 'Distinct client IPs connected now or within the sliding window', () => s().connectedClientsWindow);
  gauge('oms_gateway_tunnels_active', 'Tunnels open now', () => s().tunnelsActive);
  // The perf counters "Rejection Count" and "Error Count" only grow, so they are Prometheus counters
  // (`_total`); a gauge named `_count` is what promtool flags (it reads as a histogram/summary part).
  total('oms_gateway_rejections_total', 'Connections rejected by validation: host, port, TLS checks (perf counter "Rejection Count")', () => s().rejectionCount);
  total('oms_gateway_errors_total', 'Errors, events 400-403 (perf counter "Error Count")', () => s().errorCount);
  total('oms_gateway_connections_total', 'Client connections accepted', () => s().connectionsTotal);
  total('oms_gateway_tunnels_total', 'Tunnels established (200 Connection established sent)', () => s().tunnelsTotal);
  total('oms_gateway_bytes_in_total', 'Bytes received from clients', () => s().bytesIn);
  total('oms_gateway_bytes_out_total', 'Bytes sent to clients', () => s().bytesOut);

  const latency = new Histogram({
    name: 'oms_gateway_upstream_connect_seconds',
    help: 'Time to connect to the upstream (direct, host map or relay proxy CONNECT)',
    buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    registers: [registry],
  });
  counters.on('latency', (ms) => latency.observe(ms / 1000));

  const byId = new Counter({ name: 'oms_gateway_events_total', help: 'Events logged, by event id', labelNames: ['id', 'level'] as const, registers: [registry] });
  events.on('event', (e) => byId.inc({ id: String(e.id), level: e.level }));
  return registry;
}
