import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { packageRoot } from '../../lib/paths.js';
import { HttpError, sendJson } from '../admin/http-util.js';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, param?: string) => Promise<void> | void;
export type RouteFn = (method: string, path: string, handler: Handler) => void;

export interface ConsoleOptions {
  /** Whether changes need the admin token (the page asks for it; it never receives it). */
  tokenRequired: boolean;
}

/** The page's own files (gateway/console/static), by the name they are served under /console/. */
const PAGE_FILES = ['app.js', 'api.js', 'events.js', 'charts.js', 'settings.js', 'console.css'];

/** Browser libraries served from the package's own node_modules: no CDN, no build step. */
const LIBRARIES: Record<string, string> = {
  'preact.mjs': 'node_modules/preact/dist/preact.mjs',
  'preact-hooks.mjs': 'node_modules/preact/hooks/dist/hooks.mjs',
  'htm.mjs': 'node_modules/htm/dist/htm.mjs',
  'uplot.mjs': 'node_modules/uplot/dist/uPlot.esm.js',
  'uplot.css': 'node_modules/uplot/dist/uPlot.min.css',
};

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8' };

const cache = new Map<string, Buffer>();
function read(relative: string): Buffer {
  let b = cache.get(relative);
  if (!b) {
    b = readFileSync(join(packageRoot(), relative));
    cache.set(relative, b);
  }
  return b;
}

function contentType(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/**
 * Only our own files, one inline import map (allowed by its hash), same-origin fetches; no frames.
 * Hostile strings in events are rendered as text by Preact; this policy is the second wall.
 */
function securityHeaders(importMapHash: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'self' 'sha256-${importMapHash}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

function send(res: ServerResponse, body: Buffer, type: string, headers: Record<string, string>): void {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, ...headers });
  res.end(body);
}

/**
 * Checks every management request before routing, now that a browser talks to the API:
 * - a token must travel in the Authorization header (one in a URL ends up in history and logs);
 * - a change from a page of another origin is refused (a loopback API without a token would
 *   otherwise take a form post from any web site the operator has open).
 */
export function guardAdminRequest(req: IncomingMessage, url: URL): void {
  for (const name of ['token', 'access_token', 'admin_token', 'adminToken']) {
    if (url.searchParams.has(name)) throw new HttpError(400, `do not put the admin token in a URL (query parameter "${name}"): URLs end up in history and logs; send it as Authorization: Bearer <token>`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && req.method !== 'GET' && req.method !== 'HEAD') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.headers.host) throw new HttpError(403, `changes are only accepted from the console's own origin (http://${req.headers.host ?? '?'}), not from ${JSON.stringify(origin).slice(0, 200)}`);
  }
}

/** The web console at `/` (issue 13): the page, its scripts, and the libraries it imports. */
export function registerConsoleRoutes(route: RouteFn, options: ConsoleOptions): void {
  const html = read('gateway/console/static/index.html');
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html.toString('utf8'));
  if (!importMap) throw new Error('gateway/console/static/index.html has no import map');
  const headers = securityHeaders(createHash('sha256').update(importMap[1]).digest('base64'));

  route('GET', '/', (_q, res) => send(res, html, TYPES['.html'], headers));
  route('GET', '/console/session', (_q, res) => sendJson(res, 200, { tokenRequired: options.tokenRequired }));
  route('GET', '/console/:param', (_q, res, _u, name) => {
    if (!name || !PAGE_FILES.includes(name)) throw new HttpError(404, `no such console file: ${name}`);
    send(res, read(`gateway/console/static/${name}`), contentType(name), headers);
  });
  route('GET', '/console/lib/:param', (_q, res, _u, name) => {
    const file = name && Object.hasOwn(LIBRARIES, name) ? LIBRARIES[name] : undefined;
    if (!file) throw new HttpError(404, `no such console library: ${name}`);
    send(res, read(file), contentType(name!), headers);
  });
}
