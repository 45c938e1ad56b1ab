import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../../lib/listen.js';
import { timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { isInputError } from '../../lib/errors.js';
import type { ManualClock } from '../../lib/clock.js';
import type { EventFilter, EventLog } from '../events/event-log.js';
import { guardAdminRequest, registerConsoleRoutes } from '../console/routes.js';
import { streamEvents } from '../console/event-stream.js';
import type { CountersSnapshot } from '../counters/counters.js';
import { HttpError, readJson, requireObject, sendJson } from './http-util.js';

/** What the management API can do to a gateway (implemented by createGateway). */
export interface AdminBackend {
  events: EventLog;
  metrics: Registry;
  counters(): CountersSnapshot;
  listHosts(): readonly string[];
  addHosts(hosts: string[]): Promise<ListChange>;
  removeHosts(hosts: string[]): Promise<ListChange>;
  listSubjects(): readonly string[];
  addSubjects(subjects: string[]): Promise<ListChange>;
  removeSubjects(subjects: string[]): Promise<ListChange>;
  getConfig(): Record<string, unknown>;
  putConfig(patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  reload(): Promise<Record<string, unknown>>;
  /** Present only with --clock manual. */
  manualClock?: ManualClock;
  health(): Record<string, unknown>;
}

export interface ListChange {
  entries: readonly string[];
  changed: string[];
  /** Whether the change was also written to the allowlist file (so it survives a restart). */
  persisted: boolean;
  file?: string;
}

export interface AdminServerOptions {
  backend: AdminBackend;
  token?: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, param?: string) => Promise<void> | void;

/** The gateway's management API (node http): health, metrics, counters, events, allowlists, config, reload. */
export class AdminServer {
  private readonly server: Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];

  constructor(private readonly o: AdminServerOptions) {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.defineRoutes();
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listen(this.server, host, port);
  }

  async close(): Promise<void> {
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private route(method: string, path: string, handler: Handler): void {
    const pattern = new RegExp('^' + path.replace(':param', '([^/]+)') + '$');
    this.routes.push({ method, pattern, handler });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://admin.invalid');
      guardAdminRequest(req, url);
      const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) throw new HttpError(405, `${req.method} is not supported on ${url.pathname} (use ${candidates.map((r) => r.method).join(', ')})`, { Allow: candidates.map((r) => r.method).join(', ') });
      if (req.method !== 'GET' && req.method !== 'HEAD') this.authorize(req);
      const m = route.pattern.exec(url.pathname)!;
      await route.handler(req, res, url, m[1] !== undefined ? decodeURIComponent(m[1]) : undefined);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message }, err.headers);
      if (isInputError(err)) return sendJson(res, 400, { error: err.message });
      sendJson(res, 500, { error: `unexpected error: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  /** With a token configured, every change needs `Authorization: Bearer <token>`. */
  private authorize(req: IncomingMessage): void {
    const token = this.o.token;
    if (!token) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(m ? m[1].trim() : '');
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, m ? 'wrong admin token' : 'this change needs Authorization: Bearer <admin token>', { 'WWW-Authenticate': 'Bearer realm="omsgw admin"' });
    }
  }

  private defineRoutes(): void {
    const b = this.o.backend;
    this.route('GET', '/healthz', (_q, res) => sendJson(res, 200, b.health()));
    this.route('GET', '/metrics', async (_q, res) => {
      const text = await b.metrics.metrics();
      res.writeHead(200, { 'Content-Type': b.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
    this.route('GET', '/api/counters', (_q, res) => sendJson(res, 200, b.counters()));
    this.route('GET', '/api/events', (_q, res, url) => sendJson(res, 200, { events: b.events.list(eventFilter(url)), lastSeq: b.events.lastSeq }));
    this.route('GET', '/api/events/stream', (req, res, url) => void streamEvents(req, res, b.events, eventFilter(url), this.streams));
    registerConsoleRoutes((method, path, handler) => this.route(method, path, handler), { tokenRequired: !!this.o.token });

    const listRoutes = (path: string, key: 'host' | 'subject', list: () => readonly string[], add: (v: string[]) => Promise<ListChange>, remove: (v: string[]) => Promise<ListChange>) => {
      const plural = key === 'host' ? 'hosts' : 'subjects';
      const values = (body: unknown): string[] => {
        const o = requireObject(body, `{"${key}": "..."} or {"${plural}": ["..."]}`);
        const v = o[key] !== undefined ? [o[key]] : o[plural];
        if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) throw new HttpError(400, `request body needs "${key}" (a string) or "${plural}" (a list of strings)`);
        return v as string[];
      };
      this.route('GET', path, (_q, res) => sendJson(res, 200, { [plural]: list() }));
      this.route('POST', path, async (req, res) => sendJson(res, 200, change(plural, await add(values(await readJson(req))))));
      this.route('DELETE', path, async (req, res) => sendJson(res, 200, change(plural, await remove(values(await readJson(req))))));
      this.route('DELETE', `${path}/:param`, async (_q, res, _u, p) => sendJson(res, 200, change(plural, await remove([p!]))));
    };
    listRoutes('/api/allowlist/hosts', 'host', () => b.listHosts(), (v) => b.addHosts(v), (v) => b.removeHosts(v));
    listRoutes('/api/allowlist/client-certificates', 'subject', () => b.listSubjects(), (v) => b.addSubjects(v), (v) => b.removeSubjects(v));

    this.route('GET', '/api/config', (_q, res) => sendJson(res, 200, b.getConfig()));
    this.route('PUT', '/api/config', async (req, res) => sendJson(res, 200, await b.putConfig(requireObject(await readJson(req), '{"relayProxy": "http://host:3128"}'))));
    this.route('POST', '/api/reload', async (_q, res) => sendJson(res, 200, await b.reload()));
    this.route('POST', '/api/clock/advance', async (req, res) => {
      const clock = b.manualClock;
      if (!clock) throw new HttpError(404, 'the clock is only adjustable when the gateway runs with --clock manual');
      const o = requireObject(await readJson(req), '{"ms": 60000} or {"to": "2016-03-02T00:00:00Z"}');
      if (o.ms !== undefined) {
        if (typeof o.ms !== 'number' || !Number.isFinite(o.ms) || o.ms < 0) throw new HttpError(400, '"ms" must be a number of milliseconds >= 0');
        await clock.advance(o.ms);
      } else if (typeof o.to === 'string') {
        const t = Date.parse(o.to);
        if (Number.isNaN(t)) throw new HttpError(400, `"to" must be an ISO time such as 2016-03-02T00:00:00Z, got ${JSON.stringify(o.to)}`);
        if (t < clock.now()) throw new HttpError(400, `"to" (${o.to}) is before the clock's time ${new Date(clock.now()).toISOString()}; the clock only moves forward`);
        await clock.advanceTo(t);
      } else throw new HttpError(400, 'request body needs "ms" (number) or "to" (ISO time)');
      sendJson(res, 200, { now: new Date(clock.now()).toISOString() });
    });
    this.route('GET', '/api/clock', (_q, res) => {
      const clock = b.manualClock;
      sendJson(res, 200, { manual: !!clock, now: new Date(clock ? clock.now() : Date.now()).toISOString() });
    });
  }
}

function change(plural: string, c: ListChange): Record<string, unknown> {
  return { [plural]: c.entries, changed: c.changed, persisted: c.persisted, ...(c.file ? { file: c.file } : {}) };
}

function eventFilter(url: URL): EventFilter {
  const filter: EventFilter = {};
  const since = url.searchParams.get('since');
  if (since !== null) {
    if (!/^[0-9]+$/.test(since)) throw new HttpError(400, `since must be an event seq number (integer >= 0), got ${JSON.stringify(since)}`);
    filter.since = Number(since);
  }
  const ids = url.searchParams.getAll('id').flatMap((v) => v.split(',')).filter((v) => v.trim() !== '');
  if (ids.length > 0) {
    filter.ids = ids.map((v) => {
      if (!/^[0-9]{3}$/.test(v.trim())) throw new HttpError(400, `id must be event ids such as 103,105, got ${JSON.stringify(v)}`);
      return Number(v);
    });
  }
  const limit = url.searchParams.get('limit');
  if (limit !== null) {
    if (!/^[0-9]+$/.test(limit) || Number(limit) < 1) throw new HttpError(400, `limit must be a positive integer, got ${JSON.stringify(limit)}`);
    filter.limit = Number(limit);
  }
  return filter;
}
