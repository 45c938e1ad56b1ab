import { Agent, request } from 'undici';
import type { Endpoint } from '../harness/driver/types.js';
import type { RunningPeer } from './peers/index.js';
import { keepalive, type KeepaliveMetrics, type WorkloadEnv } from './workloads.js';

/** What ten open web consoles cost the gateway during the kept-alive workload (issue 13). */
export interface ConsoleCostMetrics {
  consoles: number;
  /** Best kept-alive round with no console open. */
  withoutConsoles: KeepaliveMetrics;
  /** Best kept-alive round with the consoles open. */
  withConsoles: KeepaliveMetrics;
  /** 100 × (1 − with / without): the share of requests per second the consoles took. */
  costPercent: number;
  /** What the consoles read while measured: events streamed and counter polls answered, summed. */
  eventsStreamed: number;
  counterPolls: number;
  pageBytes: number;
}

const CONSOLE_COUNT = 10;
const POLL_MS = 1000;

interface OpenConsoles {
  close(): Promise<{ eventsStreamed: number; counterPolls: number; pageBytes: number }>;
}

/**
 * Opens `count` consoles as a browser page does, against the management API: the page and every
 * file it loads, the last 500 events, the live event stream (read to the end), and the counters
 * once a second. The browser's own rendering is not the gateway's cost and is not simulated.
 */
export async function openConsoles(admin: Endpoint, count: number): Promise<OpenConsoles> {
  const base = `http://${admin.host}:${admin.port}`;
  const dispatcher = new Agent({ connections: count * 2 });
  const get = async (path: string): Promise<string> => {
    const r = await request(base + path, { dispatcher });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`console GET ${path}: ${r.statusCode} ${text.slice(0, 200)}`);
    return text;
  };
  let pageBytes = 0;
  let eventsStreamed = 0;
  let counterPolls = 0;
  const stops: (() => void)[] = [];
  for (let i = 0; i < count; i++) {
    const html = await get('/');
    pageBytes += html.length;
    for (const m of html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)) pageBytes += (await get(m[1])).length;
    for (const lib of ['preact.mjs', 'preact-hooks.mjs', 'htm.mjs', 'uplot.mjs']) pageBytes += (await get(`/console/lib/${lib}`)).length;
    for (const file of ['api.js', 'events.js', 'charts.js', 'settings.js']) pageBytes += (await get(`/console/${file}`)).length;
    const recent = JSON.parse(await get('/api/events?limit=500')) as { lastSeq: number };
    const abort = new AbortController();
    const stream = await request(`${base}/api/events/stream?since=${recent.lastSeq}`, { dispatcher, signal: abort.signal });
    const reading = (async () => {
      for await (const chunk of stream.body) eventsStreamed += (String(chunk).match(/\nevent: gateway-event\n/g) ?? []).length;
    })().catch(() => undefined);
    const timer = setInterval(() => {
      get('/api/counters').then(() => counterPolls++, () => undefined);
    }, POLL_MS);
    stops.push(() => {
      clearInterval(timer);
      abort.abort();
      void reading;
    });
  }
  return {
    async close() {
      for (const stop of stops) stop();
      await dispatcher.destroy().catch(() => undefined);
      return { eventsStreamed, counterPolls, pageBytes };
    },
  };
}

/**
 * Kept-alive rounds without and with ten consoles, interleaved so a busy moment on a shared
 * machine hits both alike; the best of each counts (as for the other throughput workloads).
 */
export async function consoleCost(peer: RunningPeer & { admin?: Endpoint }, env: WorkloadEnv, durationMs: number, rounds: number): Promise<ConsoleCostMetrics> {
  if (!peer.admin) throw new Error(`${peer.name} has no management API, so no console to open`);
  let without: KeepaliveMetrics | undefined;
  let withC: KeepaliveMetrics | undefined;
  let seen = { eventsStreamed: 0, counterPolls: 0, pageBytes: 0 };
  for (let i = 0; i < Math.max(2, rounds); i++) {
    const base = await keepalive(peer, env, durationMs);
    if (!without || base.reqPerSec > without.reqPerSec) without = base;
    const consoles = await openConsoles(peer.admin, CONSOLE_COUNT);
    let loaded: KeepaliveMetrics;
    try {
      loaded = await keepalive(peer, env, durationMs);
    } finally {
      const s = await consoles.close();
      seen = { eventsStreamed: seen.eventsStreamed + s.eventsStreamed, counterPolls: seen.counterPolls + s.counterPolls, pageBytes: seen.pageBytes + s.pageBytes };
    }
    if (!withC || loaded.reqPerSec > withC.reqPerSec) withC = loaded;
  }
  const costPercent = Math.round((1 - withC!.reqPerSec / without!.reqPerSec) * 1000) / 10;
  return { consoles: CONSOLE_COUNT, withoutConsoles: without!, withConsoles: withC!, costPercent, ...seen };
}
