import { InputError } from '../../lib/errors.js';
import { parseResetTime } from '../counters/daily-distinct-clients.js';
import { parseHostMapEntry } from '../routes/host-map.js';
import { parseRelayProxy } from '../routes/relay.js';
import { DEFAULT_TLS_POLICY, parseTlsPolicy } from '../tls/policy.js';
import type { TlsPolicy } from '../tls/types.js';
import { boolean, describe, integer, ipAddress, nullable, port, portList, string, stringList, userPass, type Check } from './fields.js';

/** Everything gateway.json (and createGateway) accepts. Paths are absolute once resolved. */
export interface GatewayConfig {
  listenHost: string;
  listenPort: number;
  adminHost: string;
  /** null turns the management API off. */
  adminPort: number | null;
  adminToken?: string;
  /** allowedlist_server.txt */
  allowlistFile?: string;
  /** Hosts allowed in addition to the file's. */
  allowlist: string[];
  /** allowedlist_client.txt */
  clientAllowlistFile?: string;
  clientAllowlist: string[];
  allowedPorts: number[];
  hostMap: string[];
  hostMapFile?: string;
  /** http://[user:pass@]host:port, or absent for direct connections. */
  relayProxy?: string;
  /** user:password that clients must send in Proxy-Authorization. */
  proxyAuth?: string;
  allowPrivateUpstream: boolean;
  tlsInspection: boolean;
  tls: TlsPolicy;
  eventLog?: string;
  eventRingSize: number;
  debugEvents: boolean;
  maxHeadBytes: number;
  headerTimeoutMs: number;
  maxConnections: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  drainTimeoutMs: number;
  connectedClientsResetTime: string;
  connectedClientsWindowMinutes: number;
  watch: boolean;
}

export const DEFAULT_CONFIG: GatewayConfig = {
  listenHost: '127.0.0.1',
  listenPort: 8080,
  adminHost: '127.0.0.1',
  adminPort: 8081,
  allowlist: [],
  clientAllowlist: [],
  allowedPorts: [443],
  hostMap: [],
  allowPrivateUpstream: false,
  tlsInspection: true,
  tls: { ...DEFAULT_TLS_POLICY },
  eventRingSize: 10_000,
  debugEvents: false,
  maxHeadBytes: 8192,
  headerTimeoutMs: 10_000,
  maxConnections: 10_000,
  idleTimeoutMs: 300_000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 5_000,
  connectedClientsResetTime: '00:00',
  connectedClientsWindowMinutes: 15,
  watch: false,
};

const hostMapList: Check<string[]> = (value, where) => {
  const list = stringList(value, where);
  list.forEach((e, i) => parseHostMapEntry(e, `${where}[${i}]`));
  return list;
};

const relayUrl: Check<string | undefined> = (value, where) => {
  if (value === null || value === '') return undefined;
  const s = string(value, where);
  parseRelayProxy(s, where);
  return s;
};

const resetTime: Check<string> = (value, where) => {
  if (typeof value !== 'string') throw new InputError(`${where} must be a UTC time of day "HH:MM", got ${describe(value)}`);
  parseResetTime(value, where);
  return value;
};

const ms = (min: number, max: number): Check<number> => integer(min, max, 'a number of milliseconds');

/** One validator per key; a key not listed here is refused. */
export const FIELDS: { [K in keyof GatewayConfig]-?: Check<GatewayConfig[K]> } = {
  listenHost: ipAddress,
  listenPort: port,
  adminHost: ipAddress,
  adminPort: nullable(port),
  adminToken: (v, w) => {
    const s = string(v, w);
    if (s.length < 8) throw new InputError(`${w} must be at least 8 characters`);
    return s;
  },
  allowlistFile: string,
  allowlist: stringList,
  clientAllowlistFile: string,
  clientAllowlist: stringList,
  allowedPorts: portList,
  hostMap: hostMapList,
  hostMapFile: string,
  relayProxy: relayUrl,
  proxyAuth: userPass,
  allowPrivateUpstream: boolean,
  tlsInspection: boolean,
  tls: (v, w) => parseTlsPolicy(v, w),
  eventLog: string,
  eventRingSize: integer(1, 10_000_000),
  debugEvents: boolean,
  maxHeadBytes: integer(256, 1024 * 1024, 'a number of bytes'),
  headerTimeoutMs: ms(1, 3_600_000),
  maxConnections: integer(1, 1_000_000),
  idleTimeoutMs: ms(1, 86_400_000),
  connectTimeoutMs: ms(1, 600_000),
  drainTimeoutMs: ms(0, 600_000),
  connectedClientsResetTime: resetTime,
  connectedClientsWindowMinutes: integer(1, 1440, 'a number of minutes'),
  watch: boolean,
};

export const CONFIG_KEYS = Object.keys(FIELDS) as Array<keyof GatewayConfig>;

/** Keys whose values are secrets: never shown by /api/config, `config get` or events. */
export const SECRET_KEYS: ReadonlyArray<keyof GatewayConfig> = ['adminToken', 'proxyAuth', 'relayProxy'];

/**
 * Validates a partial configuration object (gateway.json content or programmatic options).
 * `label(key)` says where a key came from, e.g. `gateway.json: "listenPort"`.
 */
export function validatePartialConfig(raw: unknown, label: (key: string) => string, source: string): Partial<GatewayConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(`${source} must be a JSON object of settings, got ${describe(raw)}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$schema' || key === '//') continue;
    const check = (FIELDS as Record<string, Check<unknown>>)[key];
    if (!check) throw new InputError(`${label(key)} is not a known setting (known: ${CONFIG_KEYS.join(', ')})`);
    if (value === undefined) continue;
    out[key] = check(value, label(key));
  }
  return out as Partial<GatewayConfig>;
}

export function withDefaults(partial: Partial<GatewayConfig>): GatewayConfig {
  const merged = { ...DEFAULT_CONFIG, ...partial };
  for (const k of Object.keys(merged) as Array<keyof GatewayConfig>) if (merged[k] === undefined) delete merged[k];
  return merged;
}
