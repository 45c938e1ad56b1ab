import type * as http from 'node:http';
import { InputError } from '../lib/errors.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { CLOUD_HOST_PATTERNS, GUID_RE, classifyHost, hostWithoutPort } from './hosts.js';
import { loadOrCreateLabCa, ServerCertificateIssuer } from './lab-ca.js';
import { TlsFront, type ConnectionInfo } from './front.js';
import { AdminApi } from './admin-api.js';
import { applyRequestFaults, FaultSet } from './faults/index.js';
import { IngestionLedger } from './ledger.js';
import { LoadResultsStore } from './load-results.js';
import { readBody } from './read-body.js';
import { isIP } from 'node:net';
import { AgentRegistry, type RegisteredAgent } from './registry.js';
import { BlobStore, handleCloudRequest, type CloudState } from './handlers.js';
import { isValidSharedKey } from './protocol/signatures.js';
import { AMA_HOST_PATTERNS, classifyAmaHost } from './ama/hosts.js';
import { AmaState } from './ama/state.js';
import { applyAmaSettings, DEFAULT_AMA_SETTINGS } from './ama/settings.js';
import { labTokenKey } from './ama/tokens.js';
import { resolveCloudTls, type CloudTlsVersions } from './tls-versions.js';

export interface Workspace {
  id: string;
  key: string;
}

export interface FakeCloudOptions {
  /** Folder for the lab CA (ca.pem, ca-key.pem); created if missing. */
  stateDir: string;
  workspaces: Workspace[];
  /** The one TLS + CONNECT port; 0 (default) = ephemeral. */
  port?: number;
  /** Plain-HTTP admin API port; undefined (default) = no admin API, 0 = ephemeral. */
  adminPort?: number;
  /**
   * Address to bind both ports to (default 127.0.0.1): a loopback address, or an IP literal such as
   * 0.0.0.0 when the cloud serves other machines (a Kubernetes pod behind a Service).
   */
  host?: string;
  /** The service clock used for x-ms-Date checks and timestamps. */
  clock?: Clock;
  /** Request a client certificate in every TLS handshake (default true). Never rejected at TLS level. */
  requestClientCertificate?: boolean;
  /**
   * Issue TLS session tickets (default true, OpenSSL's default). `omsgw load` turns them off: its
   * agents never resume a session (a new connection and handshake per call, as the real agents),
   * so every ticket would be encrypted for nothing — a twentieth of the cloud's CPU per upload in a profile.
   */
  sessionTickets?: boolean;
  /** Random source for fault probabilities (tests pass a seeded one). */
  random?: () => number;
  /** Largest request body accepted (default 32 MiB). */
  maxBodyBytes?: number;
  /** Azure Monitor Agent control-plane settings (ama/settings.ts): region, dce, configVia, dcr. */
  ama?: Record<string, unknown>;
  /** TLS versions the endpoints negotiate; default TLSv1.2 to TLSv1.3, like today's Azure endpoints (tls-versions.ts). */
  tls?: Partial<CloudTlsVersions>;
}

export interface FakeCloud {
  start(): Promise<void>;
  close(): Promise<void>;
  readonly caCertPem: string;
  readonly caCertPath: string;
  readonly port: number;
  readonly proxyUrl: string;
  readonly adminPort: number | undefined;
  readonly adminUrl: string | undefined;
  hostMapEntries(): string[];
  workspaceIds(): string[];
  readonly ledger: IngestionLedger;
  /** Shard results published by `omsgw load --publish` (lab API /_lab/load-results). */
  readonly loadResults: LoadResultsStore;
  agents(filter?: { workspaceId?: string }): RegisteredAgent[];
  readonly faults: FaultSet;
  /** Azure Monitor Agent endpoints: settings (update() to change), machines served. */
  readonly ama: AmaState;
  /** The TLS versions the endpoints negotiate. */
  readonly tls: Readonly<CloudTlsVersions>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

function validateOptions(o: FakeCloudOptions): void {
  if (!o || typeof o.stateDir !== 'string' || o.stateDir === '') throw new InputError('fake cloud needs stateDir (a folder for the lab CA)');
  if (!Array.isArray(o.workspaces) || o.workspaces.length === 0) throw new InputError('fake cloud needs at least one workspace {id, key}');
  const seen = new Set<string>();
  for (const w of o.workspaces) {
    if (!w || typeof w.id !== 'string' || !GUID_RE.test(w.id)) throw new InputError(`workspace id must be a GUID, got ${JSON.stringify(w?.id)}`);
    if (typeof w.key !== 'string' || !isValidSharedKey(w.key)) throw new InputError(`workspace ${w.id}: key must be base64 of at least 16 bytes`);
    if (seen.has(w.id.toLowerCase())) throw new InputError(`workspace ${w.id} is listed twice`);
    seen.add(w.id.toLowerCase());
  }
  for (const [name, p] of [['port', o.port], ['adminPort', o.adminPort]] as const) {
    if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p <= 65535)) throw new InputError(`${name} must be an integer 0-65535, got ${p}`);
  }
  if (o.maxBodyBytes !== undefined && !(Number.isInteger(o.maxBodyBytes) && o.maxBodyBytes >= 1)) throw new InputError(`maxBodyBytes must be a whole number >= 1, got ${o.maxBodyBytes}`);
  if (o.random !== undefined && typeof o.random !== 'function') throw new InputError('random must be a function returning numbers in [0, 1)');
  if (o.port && o.port === o.adminPort) throw new InputError(`port and adminPort are both ${o.port}: give them different ports (or 0)`);
  if (o.ama !== undefined) {
    try {
      applyAmaSettings(DEFAULT_AMA_SETTINGS, o.ama);
    } catch (err) {
      throw new InputError(`ama: ${(err as Error).message}`);
    }
  }
  if (o.host !== undefined && !LOOPBACK.test(o.host) && isIP(o.host) === 0) throw new InputError(`host must be a loopback address or an IP address to listen on (e.g. 0.0.0.0 in a container), got ${o.host}`);
  resolveCloudTls(o.tls);
}

/** A port someone else holds is a flag to change, not a crash. */
function listenError(err: unknown, host: string): unknown {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e?.code === 'EADDRINUSE') return new InputError(`port ${e.port} on ${host} is already in use: choose another port (0 = any free port)`);
  if (e?.code === 'EACCES') return new InputError(`no permission to listen on port ${e.port} of ${host}: use a port above 1023 (0 = any free port)`);
  if (e?.code === 'EADDRNOTAVAIL') return new InputError(`${host} is not an address of this machine: use 127.0.0.1 or another configured loopback address`);
  return err;
}

export function createFakeCloud(options: FakeCloudOptions): FakeCloud {
  validateOptions(options);
  return new FakeCloudImpl(options);
}

class FakeCloudImpl implements FakeCloud {
  readonly ledger = new IngestionLedger();
  readonly loadResults = new LoadResultsStore();
  readonly faults: FaultSet;
  readonly ama: AmaState;
  readonly tls: Readonly<CloudTlsVersions>;
  private readonly registry = new AgentRegistry();
  private readonly keys = new Map<string, string>();
  private readonly clock: Clock;
  private readonly host: string;
  private readonly state: CloudState;
  private front?: TlsFront;
  private admin?: AdminApi;
  private ca?: { certPem: string; certPath: string };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hung = new Set<http.ServerResponse>();
  private started = false;

  constructor(private readonly opts: FakeCloudOptions) {
    for (const w of opts.workspaces) this.keys.set(w.id.toLowerCase(), w.key);
    this.clock = opts.clock ?? systemClock;
    this.host = opts.host ?? '127.0.0.1';
    this.faults = new FaultSet(opts.random);
    this.tls = Object.freeze(resolveCloudTls(opts.tls));
    const keyOf = (ws: string) => this.keys.get(ws.toLowerCase());
    this.ama = new AmaState(opts.ama, this.ledger, this.clock, keyOf);
    this.state = { keyOf, registry: this.registry, ledger: this.ledger, clock: this.clock, blobs: new BlobStore(), ama: this.ama };
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('fake cloud already started');
    this.started = true;
    const ca = await loadOrCreateLabCa(this.opts.stateDir);
    this.ca = ca;
    this.ama.key = labTokenKey(ca.certPem);
    this.front = new TlsFront({
      host: this.host,
      port: this.opts.port ?? 0,
      issuer: new ServerCertificateIssuer(ca),
      requestClientCertificate: this.opts.requestClientCertificate ?? true,
      tlsVersions: this.tls,
      sessionTickets: this.opts.sessionTickets ?? true,
      refuseTls: (host) => this.faults.fire('handshake', { host }).length > 0,
      checkConnectTarget: (host, port) => {
        if (port !== 443) return `the fake cloud serves port 443 only, not ${port}`;
        if (classifyHost(host).kind === 'unknown' && !classifyAmaHost(host)) return `the fake cloud does not serve ${host} (it serves ${[...CLOUD_HOST_PATTERNS, ...AMA_HOST_PATTERNS].join(', ')})`;
        return undefined;
      },
      onRequest: (req, res, conn) => void this.onRequest(req, res, conn),
    });
    try {
      await this.front.start();
      if (this.opts.adminPort !== undefined) {
        this.admin = new AdminApi(this, this.host, this.opts.adminPort);
        await this.admin.start();
      }
    } catch (err) {
      await this.close();
      throw listenError(err, this.host);
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.hung) r.destroy();
    this.hung.clear();
    await Promise.all([this.front?.close(), this.admin?.close()]);
  }

  get caCertPem(): string {
    return this.need(this.ca).certPem;
  }
  get caCertPath(): string {
    return this.need(this.ca).certPath;
  }
  get port(): number {
    return this.need(this.front).port;
  }
  /** host:port, with IPv6 in brackets. */
  private hostPort(port: number): string {
    // Listening on every address: name the loopback one, which this machine can always reach.
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  get proxyUrl(): string {
    return `http://${this.hostPort(this.port)}`;
  }
  get adminPort(): number | undefined {
    return this.admin?.port;
  }
  get adminUrl(): string | undefined {
    return this.admin ? `http://${this.hostPort(this.admin.port)}` : undefined;
  }
  hostMapEntries(): string[] {
    return [...CLOUD_HOST_PATTERNS, ...AMA_HOST_PATTERNS].map((p) => `${p}=${this.hostPort(this.port)}`);
  }
  workspaceIds(): string[] {
    return this.opts.workspaces.map((w) => w.id);
  }
  agents(filter: { workspaceId?: string } = {}): RegisteredAgent[] {
    return this.registry.list({ workspaceId: filter.workspaceId?.toLowerCase() });
  }

  private need<T>(v: T | undefined): T {
    if (v === undefined) throw new Error('fake cloud is not started: call start() first');
    return v;
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse, conn: ConnectionInfo): Promise<void> {
    try {
      const host = hostWithoutPort(req.headers.host ?? conn.sni ?? conn.connectTarget ?? '');
      const url = new URL(req.url ?? '/', 'https://fake-cloud.invalid');
      const fired = this.faults.fire('request', { host, path: url.pathname });
      let body: Buffer | undefined;
      const outcome = await applyRequestFaults(
        fired,
        {
          reset: () => conn.raw.resetAndDestroy(),
          hang: () => {
            this.hung.add(res);
            res.once('close', () => this.hung.delete(res));
          },
          delay: (ms) => this.delay(ms),
          respond: (status, headers, text) => this.write(res, { status, headers, body: text }),
        },
        async () => {
          body = await readBody(req, this.maxBody);
          if (body === undefined) this.write(res, { status: 413, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Error: 'RequestTooLarge', Message: `request body over ${this.maxBody} bytes` }) });
          return body !== undefined;
        },
      );
      if (outcome === 'handled' || body === undefined) return;
      const reply = handleCloudRequest({ host, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, peer: conn.peer }, this.state);
      this.write(res, reply);
    } catch (err) {
      if (!res.headersSent && !res.destroyed) this.write(res, { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Error: 'InternalError', Message: (err as Error).message }) });
    }
  }

  private get maxBody(): number {
    return this.opts.maxBodyBytes ?? 32 * 1024 * 1024;
  }

  private write(res: http.ServerResponse, reply: { status: number; headers?: Record<string, string>; body?: string | Buffer }): void {
    if (res.destroyed) return;
    const body = reply.body === undefined ? undefined : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body?.length ?? 0) });
    res.end(body);
  }
}
