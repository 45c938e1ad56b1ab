import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultSet } from './faults/index.js';
import { GUID_RE } from './hosts.js';
import type { IngestionLedger } from './ledger.js';
import type { RegisteredAgent } from './registry.js';
import type { AmaState } from './ama/state.js';
import type { LoadResultsStore } from './load-results.js';

/** What the lab API reads and changes: the fake cloud's ledger, agents, faults and routing facts, nothing else. */
export interface LabApiBackend {
  readonly ledger: Pick<IngestionLedger, 'totals' | 'summary' | 'reset'>;
  agents(filter?: { workspaceId?: string }): RegisteredAgent[];
  readonly faults: Pick<FaultSet, 'list' | 'addAll' | 'clear' | 'remove'>;
  readonly ama: Pick<AmaState, 'settings' | 'machines' | 'update'>;
  readonly port: number;
  readonly proxyUrl: string;
  readonly caCertPath: string;
  readonly caCertPem: string;
  readonly loadResults: LoadResultsStore;
  workspaceIds(): string[];
  hostMapEntries(): string[];
}

const MAX_ADMIN_BODY = 64 * 1024;
/** A load result carries its timeline (one point a second): hours of it stay well under this. */
const MAX_RESULT_BODY = 16 * 1024 * 1024;
/** What GET /_lab/info says it is, so `omsgw load --cloud` can tell an omsgw cloud from any web server. */
export const LAB_SERVICE = 'omsgw-cloud';

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage, limit = MAX_ADMIN_BODY): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw Object.assign(new Error(`request body over ${limit} bytes`), { status: 413 });
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw Object.assign(new Error(`body is not JSON: ${(err as Error).message}`), { status: 400 });
  }
}

/**
 * Plain-HTTP lab API on loopback:
 *   GET /_lab/ingested[?workspace=<id>]   ledger entries and totals
 *   DELETE /_lab/ingested[?workspace=<id>] reset the ledger (or one workspace's entries)
 *   GET /_lab/agents[?workspace=<id>]      registered agents
 *   GET /_lab/faults                       active faults
 *   POST /_lab/faults                      add one fault (JSON FaultSpec) or an array of them
 *   DELETE /_lab/faults                    remove all faults
 *   DELETE /_lab/faults/<id>               remove one fault
 *   GET /_lab/info                         port, CA path, workspaces (ids only), host-map entries
 *   GET /_lab/ama                          Azure Monitor Agent settings and machines served
 *   PUT /_lab/ama                          change AMA settings ({region, dce, configVia, dcr}, partial)
 *   GET /_lab/ca.pem                       the lab CA certificate (what agents must trust)
 *   POST /_lab/load-results/<run>/<k>      store shard k's `omsgw load --json` result of run <run>
 *   GET /_lab/load-results/<run>           every stored result of a run: {runId, results: [{shard, result}]}
 */
export class AdminApi {
  private readonly server: http.Server;
  port = 0;

  constructor(private readonly cloud: LabApiBackend, private readonly host: string, private readonly wantedPort: number) {
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: Error & { status?: number }) => send(res, err.status ?? 400, { error: err.message }));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.wantedPort, this.host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    const ws = url.searchParams.get('workspace') ?? undefined;
    const c = this.cloud;
    if (ws !== undefined && !GUID_RE.test(ws)) return send(res, 400, { error: `workspace must be a workspace id (GUID), got ${JSON.stringify(ws)}` });
    if (path === '/_lab/ingested') {
      if (method === 'GET') return send(res, 200, { totals: c.ledger.totals({ workspaceId: ws }), entries: c.ledger.summary({ workspaceId: ws }) });
      if (method === 'DELETE') {
        // With ?workspace= only that workspace is forgotten: resetting everything would ignore what was asked.
        c.ledger.reset({ workspaceId: ws });
        return send(res, 200, ws ? { reset: true, workspace: ws } : { reset: true });
      }
    } else if (path === '/_lab/agents') {
      if (method === 'GET') return send(res, 200, { agents: c.agents({ workspaceId: ws }) });
    } else if (path === '/_lab/faults') {
      if (method === 'GET') return send(res, 200, { faults: c.faults.list() });
      if (method === 'POST') {
        const body = await readJson(req);
        const specs = Array.isArray(body) ? body : [body];
        if (specs.length === 0) return send(res, 400, { error: 'expected a fault object or a non-empty array of them' });
        return send(res, 201, { faults: c.faults.addAll(specs) });
      }
      if (method === 'DELETE') {
        c.faults.clear();
        return send(res, 200, { cleared: true });
      }
    } else if (path.startsWith('/_lab/faults/')) {
      const id = decodeURIComponent(path.slice('/_lab/faults/'.length));
      if (method === 'DELETE') return c.faults.remove(id) ? send(res, 200, { removed: id }) : send(res, 404, { error: `no fault with id ${id}` });
    } else if (path === '/_lab/ama') {
      if (method === 'GET') return send(res, 200, { settings: c.ama.settings, machines: c.ama.machines() });
      if (method === 'PUT') return send(res, 200, { settings: c.ama.update(await readJson(req)) });
    } else if (path === '/_lab/ca.pem') {
      if (method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(c.caCertPem) });
        res.end(c.caCertPem);
        return;
      }
    } else if (path.startsWith('/_lab/load-results/')) {
      const parts = path.slice('/_lab/load-results/'.length).split('/').map(decodeURIComponent);
      if (parts.length === 2 && method === 'POST') {
        if (!/^\d+$/.test(parts[1])) return send(res, 400, { error: `shard must be a whole number, got ${JSON.stringify(parts[1])}` });
        c.loadResults.put(parts[0], Number(parts[1]), await readJson(req, MAX_RESULT_BODY));
        return send(res, 201, { runId: parts[0], shard: Number(parts[1]) });
      }
      if (parts.length === 1 && method === 'GET') return send(res, 200, { runId: parts[0], results: c.loadResults.list(parts[0]) });
      if (parts.length > 2) return send(res, 404, { error: `no such lab endpoint: ${method} ${url.pathname} (use /_lab/load-results/<run-id>[/<shard>])` });
    } else if (path === '/_lab/info') {
      if (method === 'GET') return send(res, 200, { service: LAB_SERVICE, port: c.port, proxyUrl: c.proxyUrl, caCertPath: c.caCertPath, workspaces: c.workspaceIds(), hostMapEntries: c.hostMapEntries() });
    } else {
      return send(res, 404, { error: `no such lab endpoint: ${method} ${url.pathname}` });
    }
    return send(res, 405, { error: `${method} is not supported on ${url.pathname}` });
  }
}
