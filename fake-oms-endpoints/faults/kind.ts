import { globMatch } from '../hosts.js';

/**
 * One kind of fault, toxiproxy-style (its "toxics"): what a fault of this type matches and what it
 * does when it fires. A new fault is one file exporting a FaultKind, listed in faults/index.ts.
 */
export interface FaultKind {
  type: string;
  /** 'handshake': judged on the TLS ClientHello (SNI only, no path); 'request': on each HTTP request. */
  stage: 'handshake' | 'request';
  /** request stage: acts before the body is read, or after (a status needs the body read first so the client is not cut mid-upload). */
  afterBody?: boolean;
  /** JSON Schema of the fields only this kind uses (required ones listed in `required`). */
  fields: Record<string, Record<string, unknown>>;
  required?: string[];
  /** Defaults this kind fills in when a fault is added. */
  defaults?(spec: FaultSpec): Partial<Fault>;
  /** Whether the fault applies here; the shared globs/probability/count are checked by the FaultSet. */
  matches(f: Fault, at: { host: string; path?: string }): boolean;
  /** What it does to the request ('handled': the request is answered or dropped; 'continue': on to the next fault or the handler). */
  apply(f: Fault, request: FaultedRequest): Promise<'handled' | 'continue'> | 'handled' | 'continue';
}

/** What a fault may do to the request it fired on. */
export interface FaultedRequest {
  /** TCP RST to the client. */
  reset(): void;
  /** Never answer (freed when the cloud closes). */
  hang(): void;
  delay(ms: number): Promise<void>;
  respond(status: number, headers: Record<string, string>, body: string): void;
}

export interface FaultSpec {
  id?: string;
  type: string;
  /** Host glob (`*` wildcard, case-insensitive); default `*`. */
  host?: string;
  /** Path glob, matched against the path without query; default `*`. Not for handshake faults (a handshake has no path). */
  path?: string;
  /** 0..1, default 1. */
  probability?: number;
  /** Fire at most this many times, then stay listed with remaining 0; default unlimited. */
  count?: number;
  /** latency: added delay before the request is handled. */
  latencyMs?: number;
  /** status: 429, 500, 502, 503 or 504. */
  status?: number;
  /** status: Retry-After seconds (default 30 for 429 and 503). */
  retryAfterSeconds?: number;
}

export interface Fault extends Required<Pick<FaultSpec, 'id' | 'host' | 'path' | 'probability'>> {
  type: string;
  count?: number;
  remaining?: number;
  hits: number;
  latencyMs?: number;
  status?: number;
  retryAfterSeconds?: number;
}

/** Host and path globs: what most kinds match on. */
export function matchesHostAndPath(f: Fault, at: { host: string; path?: string }): boolean {
  return globMatch(f.host, at.host) && (at.path === undefined || globMatch(f.path, at.path));
}
