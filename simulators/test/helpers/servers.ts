import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { inflateSync } from 'node:zlib';

/** What the tiny CONNECT proxy saw for one CONNECT request. */
export interface SeenConnect {
  remoteAddress: string;
  target: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

/**
 * A minimal CONNECT proxy for tests: relays every tunnel to `upstreamPort` on 127.0.0.1, unless
 * `refuse(target)` returns a status line (e.g. "403 Forbidden"), or "hang" to never answer.
 */
export class TinyConnectProxy {
  readonly seen: SeenConnect[] = [];
  refuse: (target: string, headers: IncomingHttpHeaders) => string | undefined = () => undefined;
  private server: Server = createHttpServer();
  private sockets = new Set<Socket>();

  constructor(private readonly upstreamPort: () => number) {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('connect', (req, client: Socket, head: Buffer) => {
      const target = req.url ?? '';
      this.seen.push({ remoteAddress: client.remoteAddress ?? '', target, headers: req.headers, rawHeaders: req.rawHeaders });
      const refusal = this.refuse(target, req.headers);
      if (refusal === 'hang') return; // never answer
      if (refusal) {
        client.end(`HTTP/1.1 ${refusal}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      const up = connect(this.upstreamPort(), '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (head.length) up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      this.sockets.add(up);
      up.on('close', () => this.sockets.delete(up));
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this.port;
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface SeenRequest {
  host: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Decoded JSON for PostJsonDataItems. */
  json?: { DataType: string; IPName: string; DataItems: Record<string, unknown>[] };
  peerSubject?: string;
  tlsVersion?: string;
  servername?: string;
}

type Reply = { status: number; headers?: Record<string, string>; body?: string };

/**
 * A small stand-in for the cloud (HTTPS, asks for a client certificate): answers topology requests
 * with a DSC endpoint, agent-service PUTs and data posts with 200, unless `reply` overrides.
 */
export class TinyCloud {
  readonly seen: SeenRequest[] = [];
  reply: (req: SeenRequest) => Reply | undefined = () => undefined;
  private server: HttpsServer;
  private sockets = new Set<Socket>();

  constructor(pki: { serverCertPem: string; serverKeyPem: string; caPem: string }) {
    this.server = createHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.3' });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const sock = req.socket as TLSSocket;
        const peer = sock.getPeerCertificate();
        const body = Buffer.concat(chunks);
        const seen: SeenRequest = {
          host: String(req.headers.host ?? ''),
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          peerSubject: peer && peer.subject ? subjectText(peer.subject as unknown as Record<string, string | string[]>) : undefined,
          tlsVersion: sock.getProtocol() ?? undefined,
          servername: (sock as TLSSocket & { servername?: string }).servername || undefined,
        };
        if (req.headers['content-encoding'] === 'deflate') seen.json = JSON.parse(inflateSync(body).toString('utf8'));
        this.seen.push(seen);
        const r = this.reply(seen) ?? defaultReply(seen);
        res.writeHead(r.status, r.headers ?? {});
        res.end(r.body ?? '');
      });
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this.port;
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  /** Record ids of every data item received, in order. */
  recordIds(): string[] {
    return this.seen.flatMap((s) => (s.json?.DataItems ?? []).map((i) => String(i.omsgwRecordId)));
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function subjectText(subject: Record<string, string | string[]>): string {
  // Node groups repeated attributes (CN twice) into arrays; keep the order CN, OU, O.
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) for (const x of Array.isArray(v) ? v : [v]) parts.push(`${k}=${x}`);
  return parts.join(', ');
}

export function defaultReply(req: SeenRequest): Reply {
  const ws = /^([0-9a-f-]{36})\./i.exec(req.host)?.[1] ?? 'unknown';
  if (req.path.startsWith('/AgentService.svc/')) {
    const guid = /<EntityTypeId>([^<]+)<\/EntityTypeId>/.exec(req.body.toString('utf8'))?.[1] ?? 'unknown';
    const linux = req.path.endsWith('LinuxAgentTopologyRequest');
    const root = linux ? 'LinuxAgentTopologyResponse' : 'AgentTopologyResponse';
    const dsc = linux ? `<DscConfiguration><Endpoint>https://scus-agentservice-prod-1.azure-automation.net/Accounts/${ws}/Nodes(AgentId='${guid}')</Endpoint></DscConfiguration>` : '';
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: `<?xml version="1.0" encoding="utf-8"?><${root} xmlns="http://schemas.microsoft.com/WorkloadMonitoring/HealthServiceProtocol/2014/09/"><CertificateUpdateEndpoint updateCertificate="false">https://${ws}.oms.opinsights.azure.com/ConfigurationService.Svc/RenewCertificate</CertificateUpdateEndpoint>${dsc}</${root}>`,
    };
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
}
