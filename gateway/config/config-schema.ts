import type { JSONSchemaType } from 'ajv';
import type { TlsPolicy } from '../tls/types.js';

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
  /** Rotate the event-log file before it passes this many bytes; 0 = never. */
  eventLogMaxBytes: number;
  /** Rotated event-log files kept (`<file>.1` ... `<file>.<n>`). */
  eventLogKeep: number;
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

/**
 * Two annotations of our own besides standard JSON Schema (registered in validate-config.ts):
 * - `x-expect`: what a person should write, used in the error message ("must be <x-expect>, got …");
 * - `x-parse`: a named parser run on a value of the right type, for rules JSON Schema cannot say
 *   (a relay URL, a host map entry, the TLS policy); its own message is reported.
 */
type Expect = { 'x-expect'?: string; 'x-parse'?: 'hostMapEntry' | 'relayProxy' | 'resetTime' | 'tlsPolicy' | 'ipAddress' | 'userPass' };

const str = (expect = 'a non-empty string'): { type: 'string'; minLength: 1; pattern: string } & Expect => ({ type: 'string', minLength: 1, pattern: '\\S', 'x-expect': expect });
const optionalStr = (expect?: string, parse?: Expect['x-parse']) => ({ ...str(expect), nullable: true as const, ...(parse ? { 'x-parse': parse } : {}) });
const int = (min: number, max: number, what = 'an integer') => ({ type: 'integer' as const, minimum: min, maximum: max, 'x-expect': `${what} from ${min} to ${max}` });
const ms = (min: number, max: number) => int(min, max, 'a number of milliseconds');
const bool = { type: 'boolean' as const, 'x-expect': 'true or false' };
const stringList = { type: 'array' as const, items: { type: 'string' as const, 'x-expect': 'a string' }, 'x-expect': 'a list of strings' };
const ADMIN_PORT = 'a port number (integer) from 0 to 65535, or null for no management API';
const ip = { type: 'string' as const, 'x-parse': 'ipAddress' as const, 'x-expect': 'an IP address such as 127.0.0.1 or ::1' };

/**
 * The JSON Schema of gateway.json. It is typed as JSONSchemaType<GatewayConfig>, so the compiler
 * refuses a schema that drifts from the interface above (a missing key, a wrong type, an optional
 * key that the schema requires).
 */
export const CONFIG_SCHEMA: JSONSchemaType<GatewayConfig> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    listenHost: ip,
    listenPort: int(0, 65535, 'a port number (integer)'),
    adminHost: ip,
    adminPort: {
      anyOf: [
        { ...int(0, 65535), 'x-expect': ADMIN_PORT },
        { type: 'null', 'x-expect': ADMIN_PORT },
      ],
      'x-expect': ADMIN_PORT,
    } as unknown as JSONSchemaType<GatewayConfig>['properties']['adminPort'],
    adminToken: { ...optionalStr('at least 8 characters'), minLength: 8 },
    allowlistFile: optionalStr('a file name'),
    allowlist: stringList,
    clientAllowlistFile: optionalStr('a file name'),
    clientAllowlist: stringList,
    allowedPorts: { type: 'array', minItems: 1, items: int(1, 65535, 'a port number'), 'x-expect': 'a non-empty list of port numbers such as [443]' },
    hostMap: { type: 'array', items: { type: 'string', 'x-parse': 'hostMapEntry', 'x-expect': 'host=ip:port' }, 'x-expect': 'a list of host=ip:port strings' },
    hostMapFile: optionalStr('a file name'),
    relayProxy: { type: 'string', nullable: true, 'x-parse': 'relayProxy', 'x-expect': 'http://[user:pass@]host:port, or "" / null for direct connections' },
    proxyAuth: { type: 'string', nullable: true, 'x-parse': 'userPass', 'x-expect': '"user:password"' },
    allowPrivateUpstream: bool,
    tlsInspection: bool,
    // The TLS policy has its own validator (gateway/tls/policy.ts), which fills in the defaults.
    tls: { type: 'object', required: [], 'x-parse': 'tlsPolicy', 'x-expect': 'an object of TLS policy fields' } as unknown as JSONSchemaType<GatewayConfig>['properties']['tls'],
    eventLog: optionalStr('a file name'),
    eventLogMaxBytes: int(0, 2 ** 40, 'a number of bytes (0 = never rotate)'),
    eventLogKeep: int(0, 100, 'a number of rotated files'),
    eventRingSize: int(1, 10_000_000),
    debugEvents: bool,
    maxHeadBytes: int(256, 1024 * 1024, 'a number of bytes'),
    headerTimeoutMs: ms(1, 3_600_000),
    maxConnections: int(1, 1_000_000),
    idleTimeoutMs: ms(1, 86_400_000),
    connectTimeoutMs: ms(1, 600_000),
    drainTimeoutMs: ms(0, 600_000),
    connectedClientsResetTime: { type: 'string', 'x-parse': 'resetTime', 'x-expect': 'a UTC time of day "HH:MM"' },
    connectedClientsWindowMinutes: int(1, 1440, 'a number of minutes'),
    watch: bool,
  },
};

export type ConfigKey = keyof GatewayConfig;
export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA.properties!) as ConfigKey[];
