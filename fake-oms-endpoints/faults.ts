import { randomUUID } from 'node:crypto';
import { globMatch } from './hosts.js';

/**
 * Toxiproxy-style faults. Each applies to requests (or, for refuse-tls, TLS handshakes) whose host
 * and path match its globs, with a probability, for an optional number of hits.
 */
export type FaultType = 'latency' | 'status' | 'reset' | 'hang' | 'refuse-tls';
export const FAULT_TYPES: readonly FaultType[] = ['latency', 'status', 'reset', 'hang', 'refuse-tls'];
export const FAULT_STATUSES = [429, 500, 502, 503, 504] as const;

export interface FaultSpec {
  id?: string;
  type: FaultType;
  /** Host glob (`*` wildcard, case-insensitive); default `*`. */
  host?: string;
  /** Path glob, matched against the path without query; default `*`. Not for refuse-tls (a handshake has no path). */
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

export interface Fault extends Required<Pick<FaultSpec, 'id' | 'type' | 'host' | 'path' | 'probability'>> {
  count?: number;
  remaining?: number;
  hits: number;
  latencyMs?: number;
  status?: number;
  retryAfterSeconds?: number;
}

/** Fields that only some fault types use (refuse-tls acts on handshakes, before any path exists). */
const FIELD_TYPES: Record<string, readonly FaultType[]> = {
  latencyMs: ['latency'],
  status: ['status'],
  retryAfterSeconds: ['status'],
  path: ['latency', 'status', 'reset', 'hang'],
};

/** Throws an Error whose message says what to fix. */
export function validateFaultSpec(spec: unknown): FaultSpec {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new Error('a fault must be a JSON object with a "type"');
  const s = spec as Record<string, unknown>;
  const known = new Set(['id', 'type', 'host', 'path', 'probability', 'count', 'latencyMs', 'status', 'retryAfterSeconds']);
  for (const k of Object.keys(s)) if (!known.has(k)) throw new Error(`unknown fault field "${k}" (known: ${[...known].join(', ')})`);
  if (!FAULT_TYPES.includes(s.type as FaultType)) throw new Error(`fault type must be one of ${FAULT_TYPES.join(', ')}, got ${JSON.stringify(s.type)}`);
  for (const k of ['id', 'host', 'path'] as const) if (s[k] !== undefined && (typeof s[k] !== 'string' || s[k] === '')) throw new Error(`fault ${k} must be a non-empty string`);
  if (s.probability !== undefined && !(typeof s.probability === 'number' && s.probability >= 0 && s.probability <= 1)) throw new Error('fault probability must be a number from 0 to 1');
  if (s.count !== undefined && !(Number.isInteger(s.count) && (s.count as number) > 0)) throw new Error('fault count must be a positive integer');
  // A field another fault type uses would be silently ignored here: say so instead.
  for (const [k, types] of Object.entries(FIELD_TYPES)) {
    if (s[k] !== undefined && !types.includes(s.type as FaultType)) throw new Error(`fault field "${k}" applies only to ${types.join(', ')} faults, not ${s.type as string}`);
  }
  if (s.type === 'latency' && !(typeof s.latencyMs === 'number' && s.latencyMs >= 0 && s.latencyMs <= 600_000)) throw new Error('a latency fault needs latencyMs from 0 to 600000');
  if (s.type === 'status') {
    if (!FAULT_STATUSES.includes(s.status as (typeof FAULT_STATUSES)[number])) throw new Error(`a status fault needs status one of ${FAULT_STATUSES.join(', ')}`);
    if (s.retryAfterSeconds !== undefined && !(Number.isInteger(s.retryAfterSeconds) && (s.retryAfterSeconds as number) >= 0)) throw new Error('retryAfterSeconds must be a non-negative integer');
  }
  return s as unknown as FaultSpec;
}

export class FaultSet {
  private faults = new Map<string, Fault>();

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultSpec): Fault {
    return this.addAll([spec])[0]!;
  }

  /** Adds every fault or, when one is invalid or its id is taken, none of them. */
  addAll(specs: readonly unknown[]): Fault[] {
    const valid = specs.map((spec, i) => {
      try {
        return validateFaultSpec(spec);
      } catch (err) {
        throw new Error(specs.length > 1 ? `fault ${i + 1} of ${specs.length}: ${(err as Error).message}` : (err as Error).message);
      }
    });
    const ids = new Set<string>();
    for (const s of valid) {
      if (s.id === undefined) continue;
      if (this.faults.has(s.id) || ids.has(s.id)) throw new Error(`a fault with id ${s.id} already exists`);
      ids.add(s.id);
    }
    return valid.map((s) => this.insert(s));
  }

  private insert(s: FaultSpec): Fault {
    const id = s.id ?? randomUUID();
    const f: Fault = {
      id,
      type: s.type,
      host: s.host ?? '*',
      path: s.path ?? '*',
      probability: s.probability ?? 1,
      count: s.count,
      remaining: s.count,
      hits: 0,
      latencyMs: s.latencyMs,
      status: s.status,
      retryAfterSeconds: s.type === 'status' ? (s.retryAfterSeconds ?? (s.status === 429 || s.status === 503 ? 30 : undefined)) : undefined,
    };
    this.faults.set(id, f);
    return { ...f };
  }

  remove(id: string): boolean {
    return this.faults.delete(id);
  }

  clear(): void {
    this.faults.clear();
  }

  list(): Fault[] {
    return [...this.faults.values()].map((f) => ({ ...f }));
  }

  /**
   * Faults that fire now for this host/path, in insertion order, at most one per type.
   * Firing consumes a count and is recorded in `hits`.
   */
  fire(kinds: readonly FaultType[], host: string, path: string | undefined): Fault[] {
    const fired: Fault[] = [];
    const seen = new Set<FaultType>();
    for (const f of this.faults.values()) {
      if (!kinds.includes(f.type) || seen.has(f.type)) continue;
      if (f.remaining === 0) continue;
      if (!globMatch(f.host, host)) continue;
      if (path !== undefined && !globMatch(f.path, path)) continue;
      if (f.probability < 1 && this.random() >= f.probability) continue;
      f.hits += 1;
      if (f.remaining !== undefined) f.remaining -= 1;
      seen.add(f.type);
      fired.push({ ...f });
    }
    return fired;
  }
}
