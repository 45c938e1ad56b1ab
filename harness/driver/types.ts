/** Options and results of the tunnel load driver (CONNECT + TLS 1.2 + HTTP/1.1). */

export type DriverMode = 'keepalive' | 'churn' | 'bulk' | 'idle';

export interface Endpoint {
  host: string;
  port: number;
}

export interface DriverTls {
  /** PEM of the CA that signed the upstream's certificate. */
  ca?: string;
  /** Client certificate and key presented in the handshake (so a TLS 1.2 inspector sees a Certificate message). */
  cert?: string;
  key?: string;
  /** SNI; defaults to the CONNECT host. */
  servername?: string;
  /** Skip the hostname check (the CA is still checked); the bench's upstream certificate is not issued for every name. */
  skipHostnameCheck?: boolean;
  /** Defaults to TLSv1.2 for both: the version whose Certificate message is visible to a passive inspector. */
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

export interface DriverOptions {
  mode: DriverMode;
  /** The CONNECT proxy; undefined = direct TLS to `connectTo` (baseline). */
  proxy?: Endpoint;
  /** `host:port` sent in the CONNECT line (and Host header). */
  target: Endpoint;
  /** Where to open TCP when there is no proxy; defaults to `target`. Must be loopback. */
  direct?: Endpoint;
  proxyAuth?: { username: string; password: string };
  /** Source addresses (127.x) used round-robin per connection. */
  localAddresses?: string[];
  tls: DriverTls;
  /** keepalive/bulk/idle: tunnels held at once; churn: concurrent new-tunnel loops. */
  connections: number;
  /** Stop after this many requests in total (keepalive, churn, bulk). 0 = only the time bound. */
  maxRequests?: number;
  /** Hard time bound; the driver stops by itself (idle: how long tunnels are held once all are open; opening may take up to 2 min more). */
  durationMs: number;
  /** Request path and body size of each small request. */
  path?: string;
  bodyBytes?: number;
  /** bulk: response size each request asks the upstream to send (GET /bulk?bytes=N). */
  bulkBytes?: number;
  /** idle: keep the tunnels open past durationMs until release() (the caller reads counters first). */
  holdUntilReleased?: boolean;
  /** idle: most tunnels being opened at the same moment. */
  openConcurrency?: number;
  /** keepalive/churn: cap on requests started per second across all connections (0/undefined = as fast as possible). */
  ratePerSec?: number;
  /** Per step timeout (TCP connect, CONNECT reply, handshake, one response). */
  timeoutMs?: number;
  /** How often to record open connections and the interval latency. */
  sampleIntervalMs?: number;
  /** Extra request headers (e.g. for a fake cloud route). */
  headers?: Record<string, string>;
}

export interface LatencySummary {
  count: number;
  /** microseconds */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface DriverSample {
  /** ms since the driver started */
  t: number;
  open: number;
  requests: number;
  errors: number;
  p99Us: number;
  /** Distinct source addresses used so far. */
  sources: number;
}

export interface DriverResult {
  mode: DriverMode;
  durationMs: number;
  requests: number;
  /** Tunnels the proxy answered 200 and the TLS handshake completed through. */
  tunnelsEstablished: number;
  /** Response body bytes received (bulk throughput). */
  bytesReceived: number;
  requestsPerSec: number;
  mbPerSec: number;
  latency: LatencySummary;
  /** Tunnel setup latency: TCP + CONNECT + TLS handshake. */
  setupLatency: LatencySummary;
  errors: Record<string, number>;
  errorTotal: number;
  /** Status codes the proxy answered to CONNECT. */
  connectStatuses: Record<string, number>;
  samples: DriverSample[];
  maxOpen: number;
  /** Distinct source addresses used for connections that reached the proxy. */
  sourceAddresses: string[];
}
