import { unmapIpv4 } from '../lib/ip.js';
import { createServer, type Server, type Socket } from 'node:net';
import { listen } from '../lib/listen.js';
import { readRequestHead, type RequestHead } from './connect/request-head.js';
import type { Authority } from './connect/authority.js';
import { judge, refusalForHead } from './connect/judge.js';
import type { EventDetails, EventLog } from './events/event-log.js';
import type { GatewayCounters } from './counters/counters.js';
import { maskCredential, type LiveSettings } from './live-settings.js';
import { openRoute } from './routes/open-route.js';
import { CONNECTION_ESTABLISHED, REFUSALS, refusalResponse, type Refusal } from './statuses.js';
import { Tunnel, type Inspector, type TunnelHooks, type Verdict } from './tunnel.js';
import { IdleSweep } from './idle-sweep.js';
import type { TlsPolicy } from './tls/types.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { flatString } from '../lib/flat-string.js';

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
  /** Clock of the idle-tunnel sweep: real time (docs/gateway.md: socket timeouts never follow a manual clock); tests inject one. */
  socketClock?: Clock;
}

/** One accepted client connection. Kept small: an open tunnel keeps its Conn for as long as it lasts. */
class Conn {
  tunnel?: Tunnel<Conn>;
  upstream?: Socket;
  /** Set once the client got its answer (200 or a refusal): nothing else may be written. */
  answered = false;
  /** The CONNECT target as events show it, once a tunnel is open. */
  target = '';
  constructor(readonly id: number, readonly socket: Socket, readonly ip: string, readonly port: number) {}
}

const CONN = Symbol('omsgw.conn');
type ConnSocket = Socket & { [CONN]?: Conn };

/** After a refusal the client gets this long to read the answer and hang up before we do. */
const LINGER_MS = 2000;

/**
 * Accepts client connections and serves one CONNECT each, top to bottom:
 * parse (read the head) → judge (policy, a pure function) → route (open the upstream) → tunnel.
 * Every refusal on the way is a value handed to `refuse`, which logs and answers from the REFUSALS table.
 */
export class ProxyServer {
  private readonly server: Server;
  private readonly conns = new Set<Conn>();
  /** Refused connections not counted as clients (over capacity) that still wait for the client to hang up. */
  private readonly lingering = new Set<Socket>();
  private nextId = 1;
  private closing = false;
  private readonly idle: IdleSweep;
  /** One 'close' listener for every counted client socket (it finds its Conn through the socket). */
  private readonly onClientClose: (this: ConnSocket) => void;
  private readonly tunnelHooks: TunnelHooks<Conn>;

  constructor(private readonly o: ProxyServerOptions) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => this.accept(s));
    this.idle = new IdleSweep(o.socketClock ?? systemClock, o.limits.idleTimeoutMs);
    const conns = this.conns;
    const counters = o.counters;
    this.onClientClose = function (this: ConnSocket) {
      const conn = this[CONN]!;
      conns.delete(conn);
      counters.clientDisconnected(conn.ip, this.bytesRead, this.bytesWritten);
    };
    this.tunnelHooks = {
      verdict: (c, v) => this.logVerdict(c, v),
      idle: (c) => {
        if (this.o.debugEvents) this.log(200, `Tunnel to ${c.target} idle for ${this.o.limits.idleTimeoutMs} ms; closed`, c, { target: c.target });
      },
      closed: (c) => {
        this.o.counters.tunnelClosed();
        if (this.o.debugEvents) this.log(200, `Tunnel to ${c.target} closed (client sent ${c.socket.bytesRead} bytes, received ${c.socket.bytesWritten})`, c, { target: c.target });
      },
    };
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
   * Stops accepting. Connections not yet answered (still sending their request, or waiting for
   * their upstream) get 503 "shutting down" and are closed; tunnels keep running.
   * Resolves once the listening socket is gone (net.Server's own close callback would wait for every tunnel).
   */
  async stopAccepting(): Promise<void> {
    this.closing = true;
    for (const c of this.conns) {
      if (c.answered) continue;
      this.answer(c, { kind: 'shutting-down', detail: 'the gateway is shutting down', answer: 'The gateway is shutting down; try again later.' }, { linger: false });
    }
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
    this.idle.close();
    return forced;
  }

  private log(id: Parameters<EventLog['log']>[0], message: string, c: Conn, extra: EventDetails = {}): void {
    this.o.events.log(id, message, { clientIp: c.ip, clientPort: c.port, connectionId: c.id, ...extra });
  }

  private accept(socket: Socket): void {
    const ip = unmapIpv4(socket.remoteAddress ?? '');
    const conn = new Conn(this.nextId++, socket, ip, socket.remotePort ?? 0);
    socket.on('error', noop);
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.conns.size >= this.o.limits.maxConnections) {
      const limit = this.o.limits.maxConnections;
      this.refuse(conn, { kind: 'over-capacity', detail: `Connection limit (${limit}) reached`, answer: `The gateway is at its connection limit (${limit}); try again later.` });
      return;
    }
    this.conns.add(conn);
    this.o.counters.clientConnected(ip);
    (socket as ConnSocket)[CONN] = conn;
    socket.on('close', this.onClientClose);
    this.serve(conn).catch((err: unknown) => {
      this.log(400, `Unexpected error while serving ${ip}:${conn.port}: ${err instanceof Error ? err.message : String(err)}`, conn);
      conn.upstream?.destroy();
      socket.destroy();
    });
  }

  /** parse → judge → route → tunnel. */
  private async serve(c: Conn): Promise<void> {
    const { limits } = this.o;
    const read = await readRequestHead(c.socket, limits.maxHeadBytes, limits.headerTimeoutMs);
    if (c.answered) return; // answered while reading (shutting down)
    if (!read.ok) {
      const refusal = refusalForHead(read.failure);
      return refusal ? this.refuse(c, refusal) : void c.socket.destroy();
    }
    const head = read.head;
    const settings = this.o.settings();
    const judgement = judge(head, settings);
    if (judgement.authority) this.logRequest(c, head, judgement.authority);
    if (judgement.verdict === 'refuse') return this.refuse(c, judgement.refusal);

    const authority = judgement.authority;
    const started = performance.now();
    const route = await openRoute(authority, settings, limits.connectTimeoutMs);
    if (!route.ok) return this.refuse(c, route.refusal);
    if (c.answered || c.socket.destroyed) return void route.upstream.destroy();
    this.tunnel(c, head, authority, settings, route.upstream, route.via, performance.now() - started);
  }

  /** Event 103: every CONNECT whose target parsed, before it is allowed or refused. */
  private logRequest(c: Conn, head: RequestHead, authority: Authority): void {
    const target = authority.display;
    this.log(103, `Got request from ${c.ip}:${c.port}: CONNECT ${target} ${head.version}${formatHeaders(head)}`, c, { target, fields: { headers: maskedHeaders(head) } });
  }

  private tunnel(c: Conn, head: RequestHead, authority: Authority, settings: LiveSettings, upstream: Socket, via: string, connectMs: number): void {
    // Kept as long as the tunnel: flat, so it does not keep the request head's text alive.
    const target = flatString(authority.display);
    c.upstream = upstream;
    c.answered = true;
    c.target = target;
    this.o.counters.tunnelOpened(connectMs);
    c.socket.write(CONNECTION_ESTABLISHED);
    const inspector = settings.tlsInspection ? this.o.createInspector({ connectHost: authority.host, policy: settings.tlsPolicy, clientAllowlist: settings.clientAllowlist }) : undefined;
    if (this.o.debugEvents) this.log(200, `Tunnel to ${target} open via ${via} (connect ${connectMs.toFixed(1)} ms)`, c, { target, fields: { route: via, connectMs } });
    c.tunnel = new Tunnel(c.socket, upstream, c, this.tunnelHooks, this.idle);
    c.tunnel.start({ pending: head.rest, inspector, inspectionTimeoutMs: settings.tlsPolicy.inspectionTimeoutMs });
  }

  /** Event 107 for a verified TLS session; the refusal's own event (105/106/402) otherwise. */
  private logVerdict(c: Conn, v: Verdict): void {
    const target = c.target;
    if (v.kind === 'verified') {
      const parts = [`version=${v.version}`, v.sni !== undefined ? `sni=${v.sni}` : 'sni=(none)', v.clientSubject !== undefined ? `subject=${v.clientSubject}` : 'subject=(none)'];
      this.log(107, `TLS session is successfully verified for ${target} (${parts.join(', ')})${v.note ? `: ${v.note}` : ''}`, c, {
        target,
        fields: { version: v.version, sni: v.sni ?? null, clientSubject: v.clientSubject ?? null, ...(v.note ? { note: v.note } : {}) },
      });
    } else {
      this.log(v.eventId, v.message, c, { target, fields: { outcome: v.kind } });
    }
  }

  /** The one refusal path: the event the table names for the kind (if any), then the answer. */
  private refuse(c: Conn, r: Refusal): void {
    const { eventId, event } = REFUSALS[r.kind];
    if (eventId !== null) this.log(eventId, event(`${c.ip}:${c.port}`, r.detail), c, { ...(r.target !== undefined ? { target: r.target } : {}), fields: { outcome: r.kind, ...r.fields } });
    this.answer(c, r, { linger: true });
  }

  /**
   * Answers with the refusal's status and closes. With `linger` the client gets LINGER_MS to read
   * the answer and hang up first; without (shutting down) the socket goes once the answer is flushed.
   */
  private answer(c: Conn, r: Refusal, o: { linger: boolean }): void {
    const s = c.socket;
    if (c.answered || s.destroyed) return;
    c.answered = true;
    s.removeAllListeners('data');
    if (!o.linger) {
      s.end(refusalResponse(r.kind, r.answer), () => s.destroy());
      return;
    }
    s.end(refusalResponse(r.kind, r.answer));
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

const SECRET_HEADERS = new Set(['proxy-authorization', 'authorization']);

function maskedHeaders(head: RequestHead): Record<string, string> {
  const out: Record<string, string> = {};
  // Flat copies: a value cut from the request head would keep the whole head alive in the event ring.
  for (const [k, v] of head.headers) out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? maskCredential(v) : flatString(v);
  return out;
}

function formatHeaders(head: RequestHead): string {
  let s = '';
  for (const [k, v] of head.headers) s += `\n${k}: ${SECRET_HEADERS.has(k.toLowerCase()) ? maskCredential(v) : v}`;
  return s;
}

function noop(): void {}
