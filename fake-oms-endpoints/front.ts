import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { constants } from 'node:crypto';
import { certificateInfoFromDer, type CertificateInfo } from './protocol/certificates.js';
import { hostWithoutPort } from './hosts.js';
import type { ServerCertificateIssuer } from './lab-ca.js';

/** What the HTTP layer knows about the connection a request arrived on. */
export interface ConnectionInfo {
  /** The client's TCP socket (the CONNECT socket when tunnelled): destroying it resets the client. */
  raw: net.Socket;
  sni?: string;
  connectTarget?: string;
  tlsVersion?: string;
  peer?: CertificateInfo;
}

export interface FrontOptions {
  host: string;
  port: number;
  issuer: ServerCertificateIssuer;
  requestClientCertificate: boolean;
  /** Versions every TLS context accepts. */
  tlsVersions: { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion };
  /** False: no NewSessionTicket (SSL_OP_NO_TICKET); node keeps no server-side session cache either. */
  sessionTickets: boolean;
  /** Called once per TLS handshake with the SNI (or CONNECT host); true = refuse it. */
  refuseTls: (host: string) => boolean;
  /** Decide whether a CONNECT target is served; return an error message to refuse with 502. */
  checkConnectTarget: (host: string, port: number) => string | undefined;
  onRequest: (req: http.IncomingMessage, res: http.ServerResponse, conn: ConnectionInfo) => void;
}

const TLS_HANDSHAKE = 0x16;
/** A client that connects and never completes CONNECT + TLS setup is dropped after this. */
const SETUP_TIMEOUT_MS = 30_000;
// TLS 1.0 and 1.1 clients exist among the agents modelled (when the cloud is set to accept them); OpenSSL 3 needs security level 0 for them.
const CIPHERS = 'DEFAULT:@SECLEVEL=0';

/**
 * One port that is both an HTTP proxy (CONNECT only) and a TLS server by SNI. Every TLS connection,
 * direct or inside a CONNECT tunnel, is terminated here with a certificate from the lab CA,
 * optionally requesting a client certificate (never rejecting at the TLS level: the HTTP layer
 * decides), and handed to one HTTP server that sees the peer certificate.
 */
export class TlsFront {
  private readonly server = net.createServer((s) => this.onSocket(s, undefined));
  private readonly proxyHttp = http.createServer((req, res) => this.onPlainRequest(req, res));
  private readonly tlsHttp = http.createServer((req, res) => this.onTlsRequest(req, res));
  private readonly sockets = new Set<net.Socket>();
  private readonly contexts = new Map<string, Promise<tls.SecureContext>>();
  private readonly conns = new WeakMap<object, ConnectionInfo>();
  private defaultContext?: tls.SecureContext;
  private closed = false;
  port = 0;

  constructor(private readonly opts: FrontOptions) {
    this.proxyHttp.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onConnect(req, socket, head));
    this.proxyHttp.on('clientError', (_err, socket) => socket.destroy());
    this.tlsHttp.on('clientError', (_err, socket) => socket.destroy());
    this.tlsHttp.keepAliveTimeout = 30_000;
  }

  async start(): Promise<void> {
    this.defaultContext = await this.contextFor('localhost');
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    this.closed = true;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.proxyHttp.closeAllConnections();
    this.tlsHttp.closeAllConnections();
    await done;
  }

  private track(s: net.Socket): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private onSocket(raw: net.Socket, connectTarget: string | undefined): void {
    this.track(raw);
    // Cleared once TLS is up: after that the TLS layer reads the handle and raw sees no activity.
    raw.setTimeout(SETUP_TIMEOUT_MS, () => raw.destroy());
    raw.once('data', (chunk: Buffer) => {
      raw.pause();
      raw.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) void this.startTls(raw, connectTarget);
      else if (connectTarget === undefined) {
        this.proxyHttp.emit('connection', raw);
        // The HTTP parser reads the handle directly; the peeked chunk is only in the JS buffer.
        raw.resume();
      }
      else raw.destroy(); // plain text inside a tunnel: Azure only speaks TLS on 443
    });
  }

  private onPlainRequest(_req: http.IncomingMessage, res: http.ServerResponse): void {
    const body = 'This port accepts CONNECT (HTTP proxy) and TLS; plain HTTP requests are not served.\n';
    res.writeHead(405, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), allow: 'CONNECT', connection: 'close' });
    res.end(body);
  }

  private onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const target = req.url ?? '';
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(target);
    const refuse = (status: string, msg: string) => socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(msg)}\r\nConnection: close\r\n\r\n${msg}`);
    if (!m) return void refuse('400 Bad Request', `CONNECT target must be host:port, got ${JSON.stringify(target)}\n`);
    const host = hostWithoutPort(m[1]);
    const problem = this.opts.checkConnectTarget(host, Number(m[2]));
    if (problem) return void refuse('502 Bad Gateway', `${problem}\n`);
    socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
    if (head.length) socket.unshift(head);
    this.onSocket(socket, host);
  }

  private contextFor(host: string): Promise<tls.SecureContext> {
    let p = this.contexts.get(host);
    if (!p) {
      p = this.opts.issuer.certificateFor(host).then((c) => tls.createSecureContext({ cert: c.certPem, key: c.keyPem, ...this.opts.tlsVersions, ciphers: CIPHERS, secureOptions: this.opts.sessionTickets ? 0 : constants.SSL_OP_NO_TICKET }));
      this.contexts.set(host, p);
      p.catch(() => this.contexts.delete(host));
    }
    return p;
  }

  private async startTls(raw: net.Socket, connectTarget: string | undefined): Promise<void> {
    if (connectTarget !== undefined && this.opts.refuseTls(connectTarget)) return void raw.resetAndDestroy();
    let context: tls.SecureContext;
    try {
      context = connectTarget !== undefined ? await this.contextFor(connectTarget) : this.defaultContext!;
    } catch {
      return void raw.destroy();
    }
    if (raw.destroyed) return;
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: context,
      requestCert: this.opts.requestClientCertificate,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      SNICallback: (servername, cb) => {
        if (connectTarget === undefined && this.opts.refuseTls(servername)) {
          // Tearing the socket down inside OpenSSL's callback crashes node; fail the callback and
          // drop the TCP connection once the stack has unwound.
          setImmediate(() => raw.destroy());
          return cb(new Error(`TLS handshake for ${servername} refused by fault`), undefined);
        }
        this.contextFor(servername.toLowerCase()).then((ctx) => cb(null, ctx), (err: Error) => cb(err, undefined));
      },
    });
    this.track(socket);
    socket.once('secure', () => {
      raw.setTimeout(0);
      const peerDer = socket.getPeerX509Certificate()?.raw;
      const conn: ConnectionInfo = {
        raw,
        sni: (socket as tls.TLSSocket & { servername?: string | false }).servername || undefined,
        connectTarget,
        tlsVersion: socket.getProtocol() ?? undefined,
        peer: peerDer && peerDer.length ? safeCertificateInfo(peerDer) : undefined,
      };
      this.conns.set(socket, conn);
      this.tlsHttp.emit('connection', socket);
    });
  }

  private onTlsRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const conn = this.conns.get(req.socket);
    if (!conn) return void res.destroy();
    this.opts.onRequest(req, res, conn);
  }
}

/**
 * Agents present the same certificate on every connection: parse each one once. Keyed by the DER
 * itself (no parse, no hash to compute), bounded so a long run with many identities stays flat.
 */
const certificateInfos = new Map<string, CertificateInfo | undefined>();
const CERTIFICATE_CACHE_SIZE = 10_000;
function safeCertificateInfo(der: Buffer): CertificateInfo | undefined {
  const key = der.toString('latin1');
  if (certificateInfos.has(key)) return certificateInfos.get(key);
  let info: CertificateInfo | undefined;
  try {
    info = certificateInfoFromDer(der);
  } catch {
    info = undefined;
  }
  if (certificateInfos.size >= CERTIFICATE_CACHE_SIZE) certificateInfos.delete(certificateInfos.keys().next().value!);
  certificateInfos.set(key, info);
  return info;
}
