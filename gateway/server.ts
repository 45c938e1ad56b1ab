import { createServer, type Server, type Socket } from 'node:net';
import { listen } from '../lib/listen.js';
import { headerValue, readRequestHead, type RequestHead } from './connect/request-head.js';
import { AuthorityError, parseAuthority, type Authority } from './connect/authority.js';
import type { EventDetails, EventLog } from './events/event-log.js';
import type { GatewayCounters } from './counters/counters.js';
import { maskCredential, type LiveSettings } from './live-settings.js';
import { connectDirect } from './routes/direct.js';
import { connectViaRelay } from './routes/relay.js';
import { UpstreamError } from './routes/upstream-error.js';
import { CONNECTION_ESTABLISHED, REFUSALS, refusalResponse, type RefusalKind } from './statuses.js';
import { startTunnel, type Inspector, type Tunnel } from './tunnel.js';
import type { TlsPolicy } from './tls/types.js';

export interface ProxyLimits {
  maxHeadBytes: number;
  headerTimeoutMs: number;
  maxConnections: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface ProxyServerOptions {
  events: EventLog;
  counters: GatewayCounters;
  limits: ProxyLimits;
  settings: () => LiveSettings;
  createInspector: (o: { connectHost: string; policy: TlsPolicy; clientAllowlist: readonly string[] }) => Inspector;
  debugEvents: boolean;
}

interface Conn {
  id: number;
  socket: Socket;
  ip: string;
  port: number;
  tunnel?: Tunnel;
  upstream?: Socket;
}

/** After a refusal the client gets this long to read the answer and hang up before we do. */
const LINGER_MS = 2000;

/** Accepts client connections, reads one CONNECT, applies policy and hands accepted ones to a tunnel. */
export class ProxyServer {
  private readonly server: Server;
  private readonly conns = new Set<Conn>();
  /** Refused connections not counted as clients (over capacity) that still wait for the client to hang up. */
  private readonly lingering = new Set<Socket>();
  private nextId = 1;
  private closing = false;

  constructor(private readonly o: ProxyServerOptions) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => this.accept(s));
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listen(this.server, host, port);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get tunnelCount(): number {
    let n = 0;
    for (const c of this.conns) if (c.tunnel) n++;
    return n;
  }

  /** Bytes moved by connections that are still open (closed ones are already in the counters). */
  liveBytes(): { bytesIn: number; bytesOut: number } {
    let bytesIn = 0;
    let bytesOut = 0;
    for (const c of this.conns) {
      bytesIn += c.socket.bytesRead;
      bytesOut += c.socket.bytesWritten;
    }
    return { bytesIn, bytesOut };
  }

  /**
   * Stops accepting; connections still reading a request are closed; tunnels keep running.
   * Resolves once the listening socket is gone (net.Server's own close callback would wait for every tunnel).
   */
  async stopAccepting(): Promise<void> {
    this.closing = true;
    for (const c of this.conns) if (!c.tunnel && !c.upstream) c.socket.destroy();
    if (this.server.listening) this.server.close();
    while (this.server.listening) await new Promise((r) => setImmediate(r));
  }

  /** Resolves when no connection is left or `timeoutMs` passed; then ends the rest by force. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const forced = this.conns.size;
    for (const s of this.lingering) s.destroy();
    for (const c of this.conns) {
      c.tunnel?.destroy();
      c.upstream?.destroy();
      c.socket.destroy();
    }
    while (this.conns.size > 0) await new Promise((r) => setTimeout(r, 5));
    return forced;
  }

  private log(id: Parameters<EventLog['log']>[0], message: string, c: Conn, extra: EventDetails = {}): void {
    this.o.events.log(id, message, { clientIp: c.ip, clientPort: c.port, connectionId: c.id, ...extra });
  }

  private accept(socket: Socket): void {
    const ip = normaliseIp(socket.remoteAddress ?? '');
    const conn: Conn = { id: this.nextId++, socket, ip, port: socket.remotePort ?? 0 };
    socket.on('error', noop);
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.conns.size >= this.o.limits.maxConnections) {
      this.log(400, `Connection limit (${this.o.limits.maxConnections}) reached; refused connection from ${ip}:${conn.port}`, conn);
      this.refuse(conn, 'over-capacity', `The gateway is at its connection limit (${this.o.limits.maxConnections}); try again later.`);
      return;
    }
    this.conns.add(conn);
    this.o.counters.clientConnected(ip);
    socket.on('close', () => {
      this.conns.delete(conn);
      this.o.counters.clientDisconnected(ip, socket.bytesRead, socket.bytesWritten);
    });
    this.handle(conn).catch((err: unknown) => {
      this.log(400, `Unexpected error while serving ${ip}:${conn.port}: ${err instanceof Error ? err.message : String(err)}`, conn);
      conn.upstream?.destroy();
      socket.destroy();
    });
  }

  private async handle(c: Conn): Promise<void> {
    const { limits } = this.o;
    const result = await readRequestHead(c.socket, limits.maxHeadBytes, limits.headerTimeoutMs);
    if (!result.ok) {
      const f = result.failure;
      if (f.kind === 'closed') return void c.socket.destroy();
      this.log(104, `Bad request from ${c.ip}:${c.port}: ${f.reason}`, c, { fields: { outcome: f.kind } });
      return this.refuse(c, f.kind, `Bad request: ${f.reason}`);
    }
    const head = result.head;
    if (head.method !== 'CONNECT') {
      this.log(104, `Not a CONNECT request from ${c.ip}:${c.port}: ${head.method} ${truncate(head.target)}`, c, { fields: { outcome: 'not-connect', method: head.method } });
      return this.refuse(c, 'not-connect', 'This gateway only serves CONNECT host:port requests.', { Allow: 'CONNECT' });
    }
    const length = headerValue(head.headers, 'content-length');
    if (headerValue(head.headers, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0')) {
      // A CONNECT has no body; bytes after the head belong to the tunnel, so a declared body is ambiguous.
      this.log(104, `Bad request from ${c.ip}:${c.port}: a CONNECT request must not declare a body (Content-Length/Transfer-Encoding)`, c, { fields: { outcome: 'malformed' } });
      return this.refuse(c, 'malformed', 'Bad request: a CONNECT request must not declare a body (Content-Length/Transfer-Encoding)');
    }
    let authority: Authority;
    try {
      authority = parseAuthority(head.target);
    } catch (err) {
      if (!(err instanceof AuthorityError)) throw err;
      this.log(104, `Bad request from ${c.ip}:${c.port}: ${err.message}`, c, { fields: { outcome: 'malformed' } });
      return this.refuse(c, 'malformed', `Bad request: ${err.message}`);
    }
    const target = authority.display;
    const settings = this.o.settings();
    this.log(103, `Got request from ${c.ip}:${c.port}: CONNECT ${target} ${head.version}${formatHeaders(head)}`, c, {
      target,
      fields: { headers: maskedHeaders(head) },
    });

    if (settings.proxyAuth && !settings.proxyAuth.matches(headerValue(head.headers, 'proxy-authorization'))) {
      const why = headerValue(head.headers, 'proxy-authorization') ? 'wrong proxy credentials' : 'no proxy credentials';
      this.log(104, `Proxy authentication failed for ${c.ip}:${c.port}: CONNECT ${target} (${why})`, c, { target, fields: { outcome: 'proxy-auth-required' } });
      return this.refuse(c, 'proxy-auth-required', 'Proxy authentication required.', { 'Proxy-Authenticate': 'Basic realm="OMS Gateway"' });
    }
    if (!settings.allowlist.allows(authority.host)) {
      this.log(105, `Target host (${authority.host}) is forbidden`, c, { target, fields: { outcome: 'forbidden-host' } });
      return this.refuse(c, 'forbidden-host', `Target host (${authority.host}) is forbidden`);
    }
    if (!settings.allowedPorts.has(authority.port)) {
      this.log(105, `Target port (${authority.port}) of host (${authority.host}) is forbidden`, c, { target, fields: { outcome: 'forbidden-port' } });
      return this.refuse(c, 'forbidden-port', `Target port (${authority.port}) is forbidden; allowed: ${[...settings.allowedPorts].join(', ')}`);
    }
    await this.connectUpstream(c, authority, head, settings);
  }

  private async connectUpstream(c: Conn, authority: Authority, head: RequestHead, settings: LiveSettings): Promise<void> {
    const target = authority.display;
    const started = performance.now();
    const mapped = settings.hostMap.lookup(authority.host);
    let upstream: Socket;
    let route: string;
    try {
      if (mapped) {
        route = `host map ${mapped.host}:${mapped.port}`;
        upstream = await connectDirect({ host: mapped.host, port: mapped.port, label: `${target} (mapped to ${mapped.host}:${mapped.port})`, refusePrivate: false, timeoutMs: this.o.limits.connectTimeoutMs });
      } else if (settings.relay) {
        route = `relay ${settings.relay.host}:${settings.relay.port}`;
        upstream = await connectViaRelay(settings.relay, target, this.o.limits.connectTimeoutMs);
      } else {
        route = 'direct';
        upstream = await connectDirect({ host: authority.host, port: authority.port, label: target, refusePrivate: !settings.allowPrivateUpstream, timeoutMs: this.o.limits.connectTimeoutMs });
      }
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      const eventId = REFUSALS[err.kind].eventId;
      if (eventId !== null) this.log(eventId, err.kind === 'private-upstream' ? err.message : `Cannot reach ${target}: ${err.message}`, c, { target, fields: { outcome: err.kind } });
      return this.refuse(c, err.kind, err.kind === 'private-upstream' ? err.message : `Cannot reach ${target}: ${err.message}`);
    }
    if (c.socket.destroyed) return void upstream.destroy();
    c.upstream = upstream;
    const connectMs = performance.now() - started;
    this.o.counters.tunnelOpened(connectMs);
    c.socket.write(CONNECTION_ESTABLISHED);
    const inspector = settings.tlsInspection ? this.o.createInspector({ connectHost: authority.host, policy: settings.tlsPolicy, clientAllowlist: settings.clientAllowlist }) : undefined;
    if (this.o.debugEvents) this.log(200, `Tunnel to ${target} open via ${route} (connect ${connectMs.toFixed(1)} ms)`, c, { target, fields: { route, connectMs } });
    c.tunnel = startTunnel({
      client: c.socket,
      upstream,
      pending: head.rest,
      inspector,
      inspectionTimeoutMs: settings.tlsPolicy.inspectionTimeoutMs,
      idleTimeoutMs: this.o.limits.idleTimeoutMs,
      onVerdict: (v) => {
        if (v.kind === 'verified') {
          const parts = [`version=${v.version}`, v.sni !== undefined ? `sni=${v.sni}` : 'sni=(none)', v.clientSubject !== undefined ? `subject=${v.clientSubject}` : 'subject=(none)'];
          this.log(107, `TLS session is successfully verified for ${target} (${parts.join(', ')})${v.note ? `: ${v.note}` : ''}`, c, {
            target,
            fields: { version: v.version, sni: v.sni ?? null, clientSubject: v.clientSubject ?? null, ...(v.note ? { note: v.note } : {}) },
          });
        } else {
          this.log(v.eventId, v.message, c, { target, fields: { outcome: v.kind } });
        }
      },
      onIdle: () => {
        if (this.o.debugEvents) this.log(200, `Tunnel to ${target} idle for ${this.o.limits.idleTimeoutMs} ms; closed`, c, { target });
      },
      onClose: () => {
        this.o.counters.tunnelClosed();
        if (this.o.debugEvents) this.log(200, `Tunnel to ${target} closed (client sent ${c.socket.bytesRead} bytes, received ${c.socket.bytesWritten})`, c, { target });
      },
    });
  }

  /** Answers with the refusal's status and closes; the client gets LINGER_MS to read it. */
  private refuse(c: Conn, kind: RefusalKind, body: string, headers: Record<string, string> = {}): void {
    const s = c.socket;
    if (s.destroyed) return;
    s.removeAllListeners('data');
    s.end(refusalResponse(kind, body, headers));
    s.resume(); // discard whatever else the client sends until it hangs up
    const t = setTimeout(() => s.destroy(), LINGER_MS);
    t.unref();
    this.lingering.add(s);
    s.once('close', () => {
      clearTimeout(t);
      this.lingering.delete(s);
    });
  }
}

function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function truncate(s: string, n = 200): string {
  return s.length > n ? s.slice(0, n) + '...' : s;
}

const SECRET_HEADERS = new Set(['proxy-authorization', 'authorization']);

function maskedHeaders(head: RequestHead): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of head.headers) out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? maskCredential(v) : v;
  return out;
}

function formatHeaders(head: RequestHead): string {
  let s = '';
  for (const [k, v] of head.headers) s += `\n${k}: ${SECRET_HEADERS.has(k.toLowerCase()) ? maskCredential(v) : v}`;
  return s;
}

function noop(): void {}
