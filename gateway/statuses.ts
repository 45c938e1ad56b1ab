import type { EventId } from './events/event-ids.js';

/**
 * Every way the gateway refuses a client, in one table: the HTTP status it answers with, the
 * event it logs and how that event is worded, and (derived from the event id by counterForEvent
 * below) which counter moves. The CONNECT pipeline (server.ts) hands a `Refusal` to one place that
 * logs and answers from this table.
 *
 * | outcome              | status | event | counter        |
 * |----------------------|--------|-------|----------------|
 * | malformed request    | 400    | 104   | none           |
 * | head too large       | 431    | 104   | none           |
 * | header timeout       | 408    | 104   | none           |
 * | not CONNECT          | 405    | 104   | none           |
 * | proxy auth missing   | 407    | 104   | none           |
 * | forbidden host       | 403    | 105   | rejectionCount |
 * | forbidden port       | 403    | 105   | rejectionCount |
 * | private upstream     | 403    | 105   | rejectionCount |
 * | over capacity        | 503    | 400   | errorCount     |
 * | shutting down        | 503    | none  | none           |
 * | DNS failure          | 502    | 403   | errorCount     |
 * | upstream refused     | 502    | 403   | errorCount     |
 * | upstream timeout     | 504    | 403   | errorCount     |
 * | relay proxy refused  | 502    | 403   | errorCount     |
 * | TLS policy (tunnel)  | close  | 105/106 | rejectionCount |
 * | TLS parse (tunnel)   | close  | 402   | errorCount     |
 */
export type RefusalKind =
  | 'malformed'
  | 'head-too-large'
  | 'header-timeout'
  | 'not-connect'
  | 'proxy-auth-required'
  | 'forbidden-host'
  | 'forbidden-port'
  | 'private-upstream'
  | 'over-capacity'
  | 'shutting-down'
  | 'upstream-dns'
  | 'upstream-refused'
  | 'upstream-timeout'
  | 'relay-refused';

export interface RefusalEntry {
  status: number;
  reason: string;
  /** The event logged (null: none, e.g. the gateway is shutting down). */
  eventId: EventId | null;
  /** The event's message from the client (`ip:port`) and the refusal's detail. */
  event: (client: string, detail: string) => string;
  /** Headers every answer of this kind carries. */
  headers?: Readonly<Record<string, string>>;
}

/** One refusal, as the pipeline's stages (judge, route, accept) produce it: kind plus words. */
export interface Refusal {
  kind: RefusalKind;
  /** What the event says, after the kind's own wording (see RefusalEntry.event). */
  detail: string;
  /** The one-line body of the answer. */
  answer: string;
  /** The CONNECT target once it parsed (events carry it). */
  target?: string;
  /** Event fields besides `outcome` (the kind), which every refusal event has. */
  fields?: Record<string, unknown>;
}

const badRequest = (client: string, detail: string) => `Bad request from ${client}: ${detail}`;
const asIs = (_client: string, detail: string) => detail;

export const REFUSALS: Record<RefusalKind, RefusalEntry> = {
  malformed: { status: 400, reason: 'Bad Request', eventId: 104, event: badRequest },
  'head-too-large': { status: 431, reason: 'Request Header Fields Too Large', eventId: 104, event: badRequest },
  'header-timeout': { status: 408, reason: 'Request Timeout', eventId: 104, event: badRequest },
  'not-connect': { status: 405, reason: 'Method Not Allowed', eventId: 104, event: (client, detail) => `Not a CONNECT request from ${client}: ${detail}`, headers: { Allow: 'CONNECT' } },
  'proxy-auth-required': {
    status: 407,
    reason: 'Proxy Authentication Required',
    eventId: 104,
    event: (client, detail) => `Proxy authentication failed for ${client}: ${detail}`,
    headers: { 'Proxy-Authenticate': 'Basic realm="OMS Gateway"' },
  },
  'forbidden-host': { status: 403, reason: 'Forbidden', eventId: 105, event: asIs },
  'forbidden-port': { status: 403, reason: 'Forbidden', eventId: 105, event: asIs },
  'private-upstream': { status: 403, reason: 'Forbidden', eventId: 105, event: asIs },
  'over-capacity': { status: 503, reason: 'Service Unavailable', eventId: 400, event: (client, detail) => `${detail}; refused connection from ${client}` },
  'shutting-down': { status: 503, reason: 'Service Unavailable', eventId: null, event: asIs },
  'upstream-dns': { status: 502, reason: 'Bad Gateway', eventId: 403, event: asIs },
  'upstream-refused': { status: 502, reason: 'Bad Gateway', eventId: 403, event: asIs },
  'upstream-timeout': { status: 504, reason: 'Gateway Timeout', eventId: 403, event: asIs },
  'relay-refused': { status: 502, reason: 'Bad Gateway', eventId: 403, event: asIs },
};

export type CounterName = 'rejectionCount' | 'errorCount';

/** Rejection Count = validation refusals (105 host/port/certificate, 106 TLS version); Error Count = events 400–403. */
export function counterForEvent(id: EventId): CounterName | undefined {
  if (id === 105 || id === 106) return 'rejectionCount';
  if (id >= 400 && id <= 403) return 'errorCount';
  return undefined;
}

/** The bytes of a refusal: status line, Content-Length, Connection: close, the kind's headers, and a one-line text body. */
export function refusalResponse(kind: RefusalKind, body: string): Buffer {
  const r = REFUSALS[kind];
  const payload = Buffer.from(body.endsWith('\n') ? body : body + '\n', 'utf8');
  let head = `HTTP/1.1 ${r.status} ${r.reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(r.headers ?? {})) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), payload]);
}

export const CONNECTION_ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n', 'latin1');
