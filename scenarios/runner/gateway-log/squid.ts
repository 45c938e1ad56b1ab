import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { GatewayEventRecord } from '../events.js';

/**
 * The event ids an access-log adapter can stand for. squid logs what it answered, not why, and it
 * never looks inside a tunnel: 107 (TLS verified), 106 and 402 have no counterpart, and neither do
 * the texts of omsgw's messages.
 */
export const ACCESS_LOG_EVENT_IDS = [103, 104, 105, 403] as const;

/**
 * One line of squid's native access log ("squid" logformat):
 * `time elapsed client action/code size method URL ident hierarchy/peer type`.
 * Returns the OMS gateway events the line stands for: a CONNECT squid received is 103; refused by
 * its access rules (TCP_DENIED, 403) also 105; refused as malformed (a 4xx squid answered itself)
 * 104; a 5xx for a CONNECT (no route, parent refused or unreachable) 403. A non-CONNECT request squid
 * refused is 104; one it served produces nothing: an OMS gateway would have refused it.
 */
export function squidLineToEvents(line: string, seq: () => number): GatewayEventRecord[] {
  const f = line.trim().split(/\s+/);
  if (f.length < 7) return [];
  const [time, , client, actionCode, , method, url] = f;
  const m = /^([A-Z_]+)\/(\d{3})$/.exec(actionCode);
  if (!m || method === '-' || /^error:/.test(url)) return [];
  const [, action, codeText] = m;
  const code = Number(codeText);
  const at = new Date(Number(time) * 1000).toISOString();
  const base = { time: at, clientIp: client, fields: { source: 'squid access.log', action, status: code } };
  const ev = (id: number, level: string, message: string, target?: string): GatewayEventRecord => ({ seq: seq(), id, level, message: `${message} [squid access.log: ${action}/${code}]`, target, ...base });
  if (method !== 'CONNECT') {
    if (code >= 400 && code < 500 && (action === 'TCP_DENIED' || action.startsWith('NONE'))) return [ev(104, 'warning', `Not a CONNECT request: ${method} ${url}`)];
    return [];
  }
  const out = [ev(103, 'info', `Got request from ${client}: CONNECT ${url}`, url)];
  if (action === 'TCP_DENIED' || code === 403) out.push(ev(105, 'warning', `Target ${url} is forbidden`, url));
  else if (code >= 400 && code < 500) out.push(ev(104, 'warning', `Request refused (${code}): CONNECT ${url}`, url));
  else if (code >= 500) out.push(ev(403, 'error', `Networking error (${code}) for ${url}`, url));
  return out;
}

/** Follows a squid access log from where it ended when the run began: each read() returns the events of the new complete lines. */
export class SquidAccessLog {
  private offset: number;
  private partial = '';
  private nextSeq = 1;

  constructor(readonly path: string) {
    this.offset = existsSync(path) ? statSync(path).size : 0;
  }

  read(): GatewayEventRecord[] {
    if (!existsSync(this.path)) return [];
    const size = statSync(this.path).size;
    if (size < this.offset) this.offset = 0; // rotated
    if (size === this.offset) return [];
    const fd = openSync(this.path, 'r');
    const buf = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.partial + buf.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.flatMap((l) => squidLineToEvents(l, () => this.nextSeq++));
  }
}
