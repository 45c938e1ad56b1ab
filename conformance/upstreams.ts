import * as net from 'node:net';
import * as tls from 'node:tls';
import { createHash } from 'node:crypto';
import { Duplex } from 'node:stream';
import { InputError } from '../lib/errors.js';
import type { KeyCert, UpstreamMark, UpstreamSeen } from './types.js';
import { RELAY_REFUSED_HOST, SUFFIX } from './hosts.js';

/** One connection the echo upstream accepted. */
interface EchoConnection {
  raw: net.Socket;
  sni?: string;
  appBytes: number;
  tls: boolean;
}

/**
 * The plain echo upstream every `*.conformance.test` name leads to. A connection whose first byte is a
 * TLS handshake record is served over TLS (any SNI, a client certificate requested, never required);
 * anything else is echoed raw. Inside TLS the first application byte picks the mode:
 * `E` echo every byte; `H` read until the client half-closes, then answer the byte count and SHA-256.
 * It records every connection: SNI, bytes received, application bytes.
 */
export class EchoUpstream {
  readonly connections: EchoConnection[] = [];
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(public port: number, private readonly cert: KeyCert) {}

  async start(): Promise<void> {
    const context = tls.createSecureContext({ cert: this.cert.certPem, key: this.cert.keyPem });
    this.server = net.createServer({ allowHalfOpen: true }, (raw) => {
      this.sockets.add(raw);
      raw.on('close', () => this.sockets.delete(raw));
      raw.on('error', () => undefined);
      const conn: EchoConnection = { raw, appBytes: 0, tls: false };
      this.connections.push(conn);
      raw.once('data', (first: Buffer) => {
        if (first[0] === 0x16) this.serveTls(conn, context, first);
        else {
          raw.write(first);
          raw.pipe(raw);
        }
      });
    });
    this.port = await listenOn(this.server, this.port, 'echo upstream');
  }

  private serveTls(conn: EchoConnection, context: tls.SecureContext, first: Buffer): void {
    conn.tls = true;
    const raw = conn.raw;
    // The first chunk was read to choose TLS or raw: a TLSSocket over the net.Socket itself would read
    // its handle directly and miss it, so TLS runs over a small stream that replays it first.
    const carrier = new Duplex({
      allowHalfOpen: true,
      read() {},
      write(chunk: Buffer, _enc, cb) {
        raw.write(chunk, cb);
      },
      final(cb) {
        raw.end();
        cb();
      },
    });
    carrier.push(first);
    raw.on('data', (c: Buffer) => carrier.push(c));
    raw.on('end', () => carrier.push(null));
    raw.on('close', () => carrier.destroy());
    const socket = new tls.TLSSocket(carrier, {
      isServer: true,
      secureContext: context,
      requestCert: true,
      rejectUnauthorized: false,
      SNICallback: (name, cb) => {
        conn.sni = name;
        cb(null, context);
      },
    });
    socket.on('error', () => raw.destroy());
    let mode: 'E' | 'H' | undefined;
    const hash = createHash('sha256');
    let count = 0;
    socket.on('data', (chunk: Buffer) => {
      conn.appBytes += chunk.length;
      let data = chunk;
      if (!mode) {
        mode = data[0] === 0x48 ? 'H' : 'E';
        data = data.subarray(1);
      }
      if (mode === 'E') socket.write(data);
      else {
        hash.update(data);
        count += data.length;
      }
    });
    socket.on('end', () => {
      if (mode === 'H') socket.end(`${count} ${hash.digest('hex')}`);
      else socket.end();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface RelayRequest {
  requestLine: string;
  authority?: string;
  proxyAuthorization?: string;
}

/**
 * A CONNECT relay (what `cache_peer` or a relay-proxy setting points at). It records every request:
 * a gateway that forwards something it should have refused is seen here. CONNECT to a cloud host
 * goes to the fake cloud, to anything else (a `conformance.test` name, an IP literal) to the echo
 * upstream; `relay-refuses.conformance.test` is refused with 403; with `auth` set, a request
 * without those Basic credentials gets 407.
 */
export class RelayUpstream {
  readonly requests: RelayRequest[] = [];
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(public port: number, private readonly routes: { cloudPort: number; echoPort: number }, private readonly auth?: string) {}

  async start(): Promise<void> {
    this.server = net.createServer({ allowHalfOpen: true }, (client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => undefined);
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          // Far above any gateway's head limit, so a head a gateway forwards whole (case 6.1: 100 KiB)
          // is parsed and recorded like any other. Beyond it, still record the request line before
          // dropping the connection: a relay that dropped silently would hide the leak.
          if (head.length > 1024 * 1024) {
            client.off('data', onData);
            const eol = head.indexOf('\r\n');
            const requestLine = head.subarray(0, eol >= 0 ? Math.min(eol, 300) : 300).toString('latin1');
            const m = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine);
            this.requests.push({ requestLine: `${requestLine} (head over 1 MiB, dropped by the relay)`, authority: m?.[1] });
            client.destroy();
          }
          return;
        }
        client.off('data', onData);
        this.handle(client, head.subarray(0, end).toString('latin1'), head.subarray(end + 4));
      };
      client.on('data', onData);
    });
    this.port = await listenOn(this.server, this.port, 'relay');
  }

  private handle(client: net.Socket, head: string, rest: Buffer): void {
    const lines = head.split('\r\n');
    const requestLine = lines[0] ?? '';
    const auth = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:\s*/, '');
    const m = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine);
    this.requests.push({ requestLine, authority: m?.[1], proxyAuthorization: auth });
    const answer = (status: string): void => {
      client.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (!m) return answer('405 Method Not Allowed');
    if (this.auth && auth !== `Basic ${Buffer.from(this.auth).toString('base64')}`) return answer('407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="conformance relay"');
    const host = m[1].replace(/:\d+$/, '').replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    if (host === RELAY_REFUSED_HOST) return answer('403 Forbidden');
    const toEcho = host === SUFFIX || host.endsWith(`.${SUFFIX}`) || net.isIP(host) !== 0 || !/\.(azure\.com|windows\.net|azure-automation\.net|systemcenteradvisor\.com)$/.test(host);
    const upstream = net.connect({ host: '127.0.0.1', port: toEcho ? this.routes.echoPort : this.routes.cloudPort, allowHalfOpen: true });
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (rest.length) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    client.on('close', () => upstream.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export function markOf(echo: EchoUpstream, relay: RelayUpstream): UpstreamMark {
  return { echo: echo.connections.length, relay: relay.requests.length };
}

export function seenSince(echo: EchoUpstream, relay: RelayUpstream, mark: UpstreamMark): UpstreamSeen {
  return {
    echo: echo.connections.slice(mark.echo).map((c) => ({ sni: c.sni, bytesIn: c.raw.bytesRead, appBytes: c.appBytes, raw: !c.tls })),
    relay: relay.requests.slice(mark.relay).map((r) => ({ ...r })),
  };
}

/** Listens on 127.0.0.1 (port 0 = any free port); resolves with the port bound. */
function listenOn(server: net.Server, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new InputError(`the ${what} port ${port} on 127.0.0.1 is in use: choose another with its flag (or stop what holds it)`));
      else reject(err);
    });
    server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}
