import { InputError } from '../lib/errors.js';
import { COUNTED_EVENTS, type EventTally } from './types.js';

export interface AdminCounters {
  activeClientConnections: number;
  connectedClients: number;
  rejectionCount: number;
  errorCount: number;
}

export const FOUR_COUNTERS = ['activeClientConnections', 'connectedClients', 'rejectionCount', 'errorCount'] as const;

async function getJson(base: string, path: string, init?: RequestInit): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(`${base.replace(/\/$/, '')}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

/** A client for the omsgw management API the suite reads events and counters from. */
export class AdminClient {
  constructor(readonly url: string) {}

  /** Refuses (InputError) anything that is not an omsgw management API: clear message, exit 2. */
  async verify(): Promise<void> {
    const where = `--admin ${this.url}`;
    let health;
    try {
      health = await getJson(this.url, '/healthz');
    } catch (err) {
      throw new InputError(`${where}: no answer (${(err as Error).cause ? String(((err as Error).cause as Error).message) : (err as Error).message}); give the omsgw management API URL, e.g. http://127.0.0.1:8081, or leave --admin out`);
    }
    const h = health.body as { status?: unknown; proxy?: unknown } | undefined;
    if (health.status !== 200 || h?.status !== 'ok' || h.proxy === undefined) {
      throw new InputError(`${where} is not an omsgw management API: GET /healthz answered ${health.status} ${JSON.stringify(health.text.slice(0, 80))} (expected {"status":"ok","proxy":…}); leave --admin out for gateways without one`);
    }
    const counters = await this.counters().catch((err: Error) => {
      throw new InputError(`${where} is not an omsgw management API: ${err.message}`);
    });
    void counters;
  }

  async counters(): Promise<AdminCounters> {
    const r = await getJson(this.url, '/api/counters');
    const c = r.body as Record<string, unknown> | undefined;
    const missing = FOUR_COUNTERS.filter((k) => typeof c?.[k] !== 'number');
    if (r.status !== 200 || missing.length) throw new Error(`GET /api/counters answered ${r.status} without ${missing.join(', ')}`);
    return c as unknown as AdminCounters;
  }

  async lastSeq(): Promise<number> {
    const r = await getJson(this.url, '/api/events?limit=1');
    return (r.body as { lastSeq?: number } | undefined)?.lastSeq ?? 0;
  }

  /** Counts of the suite's event ids logged after `since`. */
  async tallySince(since: number): Promise<{ tally: EventTally; lastSeq: number }> {
    const ids = COUNTED_EVENTS.join(',');
    const r = await getJson(this.url, `/api/events?since=${since}&id=${ids}&limit=100000`);
    const body = r.body as { events?: { id: number }[]; lastSeq?: number } | undefined;
    if (r.status !== 200 || !body?.events) throw new Error(`GET /api/events answered ${r.status}`);
    const tally: EventTally = {};
    for (const e of body.events) tally[e.id as keyof EventTally] = (tally[e.id as keyof EventTally] ?? 0) + 1;
    return { tally, lastSeq: body.lastSeq ?? since };
  }

  async config(): Promise<{ allowlistFile?: string }> {
    const r = await getJson(this.url, '/api/config');
    return ((r.body as { config?: { allowlistFile?: string } } | undefined)?.config ?? {}) as { allowlistFile?: string };
  }

  async reload(): Promise<void> {
    const r = await getJson(this.url, '/api/reload', { method: 'POST' });
    if (r.status !== 200) throw new Error(`POST /api/reload answered ${r.status}: ${r.text.slice(0, 120)}`);
  }
}

export function formatTally(t: EventTally): string {
  const parts = COUNTED_EVENTS.filter((id) => (t[id] ?? 0) > 0).map((id) => `${id}×${t[id]}`);
  return parts.length ? parts.join(' ') : 'none';
}

export function addTally(into: EventTally, more: EventTally): void {
  for (const id of COUNTED_EVENTS) if (more[id]) into[id] = (into[id] ?? 0) + more[id]!;
}

export function sameTally(a: EventTally, b: EventTally): boolean {
  return COUNTED_EVENTS.every((id) => (a[id] ?? 0) === (b[id] ?? 0));
}
