/**
 * The agent's options: their TypeScript types, the JSON Schema (ajv) that checks them, and the
 * defaults. The schema is typed `JSONSchemaType<AgentSettings>`, so the compiler refuses a schema
 * that drifts from the interface (a renamed, retyped, added or removed field fails `tsc`).
 */
import { isIPv4 } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import type { Clock } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { BEHAVIOR_MODELS, BEHAVIORS, defaultBehavior, type AgentBehavior, type BehaviorModel, type BufferOverrides } from './behavior.js';
import type { KeyPool } from './certificate.js';
import type { AgentPhase } from './errors.js';
import type { AgentOs, Seed } from './identity.js';
import type { DataVolume } from './protocol.js';

export interface AgentTlsOptions {
  minVersion?: SecureVersion;
  /** TLSv1.2 by default, like the agents of 2016. */
  maxVersion?: SecureVersion;
  /** SNI to send instead of the real host name. */
  servername?: string;
}

export interface RetryOptions {
  /** First retry delay of onboarding and the agent-service call (clock ms). Default 15 s. */
  onboardInitialMs?: number;
  onboardMaxMs?: number;
  /** First wait after a failed upload (fluentd's retry_wait): 30 s in every model. */
  uploadInitialMs?: number;
  /** Longest wait between upload attempts (max_retry_wait): omsagent 30 min, mma and ideal 9 min. */
  uploadMaxMs?: number;
  /** Jitter fraction: omsagent and mma 0.125, ideal (and onboarding) 0.2. */
  jitter?: number;
  /**
   * When uploads give up (`retry-limit`): omsagent's retry_limit (6, fluentd counting), mma's
   * retries per chunk (10); with ideal, transmissions after which a record is dropped (default: never).
   */
  retryLimit?: number;
}

export interface AgentSchedule {
  /** How often data is collected into the queue. Default 60 s. */
  collectIntervalMs: number;
  /** Override the OS's topology heartbeat interval (Linux 20 min, Windows 1 min). */
  topologyHeartbeatMs?: number;
  /** Override the OS's heartbeat-row interval (Linux 1 min). */
  heartbeatRowsMs?: number;
}

export type AgentLogLevel = 'info' | 'warning' | 'error';
export interface AgentLogEntry {
  time: string;
  level: AgentLogLevel;
  agentId: string;
  hostname: string;
  os: AgentOs;
  message: string;
  phase?: AgentPhase;
}

/** The options that are plain data: what the schema checks. */
export interface AgentSettings {
  os: AgentOs;
  workspaceId: string;
  workspaceKey: string;
  /** `[http://][user:pass@]host[:port]`, parsed like the Linux agent's proxy.conf. */
  proxy: string;
  /** The lab CA: the only certificate authority the agent trusts. */
  caPem: string;
  seed: Seed;
  /** Identity index under the seed (fleets give each agent its own). */
  index?: number;
  /** Local address for connections to the proxy, e.g. 127.0.1.7. */
  bindAddress?: string;
  tls?: AgentTlsOptions;
  /** Records the local buffer holds before new ones are dropped (`queue-full`). Default 10000. */
  queueLimit?: number;
  schedule?: Partial<AgentSchedule>;
  retry?: RetryOptions;
  volume?: Partial<DataVolume>;
  /** Records per upload (one DataType per post). Default 500. */
  batchSize?: number;
  /** Keep tunnels open between calls (the real agents do not). */
  keepAlive?: boolean;
  /** Real ms for TCP + CONNECT + TLS. Default 30 s (the agent's open_timeout). */
  connectTimeoutMs?: number;
  /** Real ms for a response. Default 60 s. */
  requestTimeoutMs?: number;
  /** Cloud top-level domain. Default opinsights.azure.com. */
  tld?: string;
  /** How the agent buffers, retries and drops: `omsagent` (Linux default), `mma` (Windows default), `ideal`. */
  behavior?: AgentBehavior;
  /** Chunked-buffer sizes of the omsagent and mma models (defaults in behavior.ts). */
  buffer?: BufferOverrides;
}

/** Everything createAgent takes: the settings plus the objects a caller hands in. */
export interface AgentOptions extends AgentSettings {
  clock?: Clock;
  /**
   * Clock for request dates (x-ms-Date), which the service checks within 15 minutes of its own
   * time. Default: `clock`. Accelerated runs (ScaledClock) pass the system clock here.
   */
  dateClock?: Clock;
  logger?: (entry: AgentLogEntry) => void;
  /** Share RSA keys with other agents (fleets); otherwise the agent generates its own. */
  keyPool?: KeyPool;
}

/** Options that are objects or functions, not data: the schema does not look at them. */
const RUNTIME_KEYS = ['clock', 'dateClock', 'logger', 'keyPool'] as const;

export const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** The agents of 2016 offer up to TLS 1.2. */
export const DEFAULT_TLS_MAX: SecureVersion = 'TLSv1.2';

// `nullable: true` is what JSONSchemaType asks of optional fields; compile() strips it so null is refused.
const ms = (description: string, exclusiveMinimum?: 0) =>
  exclusiveMinimum === 0
    ? ({ type: 'number', exclusiveMinimum: 0, nullable: true, description } as const)
    : ({ type: 'number', minimum: 0, nullable: true, description } as const);
const wholeAtLeast = (min: number, description = `a whole number >= ${min}`) => ({ type: 'integer', minimum: min, nullable: true, description }) as const;
const positiveMs = ms('a number of milliseconds > 0', 0);
const nonNegativeMs = ms('a number of milliseconds >= 0');

export const agentSettingsSchema: JSONSchemaType<AgentSettings> = {
  type: 'object',
  properties: {
    os: { type: 'string', enum: ['linux', 'windows'] },
    workspaceId: { type: 'string', description: 'a workspace id (GUID)' },
    workspaceKey: { type: 'string', description: 'the workspace\'s base64 shared key' },
    proxy: { type: 'string', description: 'a proxy string [http://][user:pass@]host[:port]' },
    caPem: { type: 'string', pattern: 'BEGIN CERTIFICATE', description: 'the lab CA certificate in PEM form (-----BEGIN CERTIFICATE-----)' },
    seed: { type: ['number', 'string'], description: 'a number or a string' },
    index: wholeAtLeast(0),
    bindAddress: { type: 'string', nullable: true, description: 'a loopback address (127.x.y.z)' },
    tls: {
      type: 'object',
      nullable: true,
      properties: {
        minVersion: { type: 'string', enum: [...TLS_VERSIONS], nullable: true },
        maxVersion: { type: 'string', enum: [...TLS_VERSIONS], nullable: true },
        servername: { type: 'string', pattern: '^[A-Za-z0-9.-]+$', nullable: true, description: 'a host name (letters, digits, dots, dashes)' },
      },
      additionalProperties: false,
    },
    queueLimit: wholeAtLeast(1),
    schedule: {
      type: 'object',
      nullable: true,
      properties: { collectIntervalMs: nonNegativeMs, topologyHeartbeatMs: nonNegativeMs, heartbeatRowsMs: nonNegativeMs },
      additionalProperties: false,
    },
    retry: {
      type: 'object',
      nullable: true,
      properties: {
        onboardInitialMs: positiveMs,
        onboardMaxMs: positiveMs,
        uploadInitialMs: positiveMs,
        uploadMaxMs: positiveMs,
        jitter: { type: 'number', minimum: 0, exclusiveMaximum: 1, nullable: true, description: 'in [0, 1)' },
        retryLimit: wholeAtLeast(1),
      },
      additionalProperties: false,
    },
    volume: {
      type: 'object',
      nullable: true,
      properties: { perfSamples: wholeAtLeast(0), logRows: wholeAtLeast(0), messageBytes: wholeAtLeast(0) },
      additionalProperties: false,
    },
    batchSize: wholeAtLeast(1, 'a positive integer'),
    keepAlive: { type: 'boolean', nullable: true },
    // undici reads 0 as "no timeout": a hung call would then never end.
    connectTimeoutMs: positiveMs,
    requestTimeoutMs: positiveMs,
    tld: { type: 'string', pattern: '^[a-z0-9.-]+$', nullable: true, description: 'a domain such as opinsights.azure.com' },
    behavior: { type: 'string', enum: [...BEHAVIORS], nullable: true },
    buffer: {
      type: 'object',
      nullable: true,
      properties: {
        flushIntervalMs: positiveMs,
        chunkLimitBytes: wholeAtLeast(1, 'a whole number of bytes >= 1'),
        queueLimitChunks: wholeAtLeast(1),
        queueLimitBytes: wholeAtLeast(1, 'a whole number of bytes >= 1'),
      },
      additionalProperties: false,
    },
  },
  required: ['os', 'workspaceId', 'workspaceKey', 'proxy', 'caPem', 'seed'],
  additionalProperties: false,
};

/** A copy of a schema without `nullable` (only there to satisfy JSONSchemaType's typing of optional fields). */
function withoutNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNullable);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'nullable') out[k] = withoutNullable(v);
  return out;
}

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator() {
  compiled ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(withoutNullable(agentSettingsSchema) as object);
  return compiled;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return JSON.stringify(v)?.slice(0, 80) ?? String(v);
}

/** One ajv error in the words of the old hand-written checks: `<path> must be <what>, got <value>`. */
export function describeSchemaError(e: ErrorObject, root = ''): string {
  const path = (root ? [root] : []).concat(e.instancePath.split('/').filter(Boolean)).join('.');
  const field = path || 'options';
  const what = (e.parentSchema as { description?: string } | undefined)?.description;
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      const name = (e.params as { additionalProperty: string }).additionalProperty;
      return `${path ? `${path}.` : ''}${name} is not an option; allowed${path ? ` in ${path}` : ''}: ${allowed.join(', ')}`;
    }
    case 'required':
      return `${path ? `${path}.` : ''}${(e.params as { missingProperty: string }).missingProperty} is required`;
    case 'enum':
      return `${field} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}, got ${show(e.data)}`;
    default:
      return `${field} must be ${what ?? e.message?.replace(/^must be /, '') ?? 'valid'}, got ${show(e.data)}`;
  }
}

/** Checks the data options against the schema; throws one InputError naming every bad field. */
export function checkAgentSettings(options: AgentOptions): void {
  if (options === null || typeof options !== 'object') throw new InputError(`agent options must be an object, got ${show(options)}`);
  const data: Record<string, unknown> = { ...options };
  for (const k of RUNTIME_KEYS) delete data[k];
  // undefined means "not given" in a JS call; JSON Schema has no undefined.
  for (const [k, v] of Object.entries(data)) if (v === undefined) delete data[k];
  const validate = validator();
  if (!validate(data)) {
    const seen = new Set<string>();
    const lines = (validate.errors ?? []).map((e) => describeSchemaError(e)).filter((l) => !seen.has(l) && seen.add(l));
    throw new InputError(lines.join('; '), { errors: validate.errors });
  }
  if (options.bindAddress !== undefined && !(isIPv4(options.bindAddress) && options.bindAddress.startsWith('127.'))) {
    throw new InputError(`bindAddress ${options.bindAddress} is not a loopback address (127.x.y.z)`);
  }
  // Caught here: node would only fail at the first handshake, and the agent would retry it forever.
  const min = options.tls?.minVersion ?? 'TLSv1';
  const max = options.tls?.maxVersion ?? DEFAULT_TLS_MAX;
  if (TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)) {
    throw new InputError(`tls.minVersion ${min} is above tls.maxVersion ${max}${options.tls?.maxVersion === undefined ? ' (the default, like the 2016 agents)' : ''}: raise maxVersion (--tls-max-version) or lower minVersion`);
  }
}

const DEFAULT_VOLUME: DataVolume = { perfSamples: 5, logRows: 2, messageBytes: 120 };

/** The settings an agent runs with once defaults are applied. */
export interface ResolvedSettings {
  /** The behaviour model with the caller's retry and buffer overrides applied. */
  model: BehaviorModel;
  queueLimit: number;
  batchSize: number;
  volume: DataVolume;
  schedule: AgentSchedule & { topologyHeartbeatMs: number; heartbeatRowsMs: number };
  onboardRetry: { initialMs: number; maxMs: number; jitter?: number };
  uploadRetry: { initialMs: number; maxMs: number; jitter?: number; retryLimit?: number };
}

/** Applies the defaults (some depend on the OS protocol) and checks the rules across fields. */
export function resolveSettings(options: AgentOptions, osDefaults: { topologyHeartbeatMs: number; heartbeatRowsMs: number }): ResolvedSettings {
  const r = options.retry ?? {};
  const base = BEHAVIOR_MODELS[options.behavior ?? defaultBehavior(options.os)];
  if (!base.chunks && options.buffer !== undefined) {
    throw new InputError(`buffer applies to behavior omsagent or mma (chunked buffers), not ${base.name}: remove buffer or choose behavior: omsagent | mma`);
  }
  const onboardInitialMs = r.onboardInitialMs ?? 15_000;
  const uploadInitialMs = r.uploadInitialMs ?? base.chunks?.retryWaitMs ?? 30_000;
  // An explicit first delay above a default cap raises the cap rather than failing.
  const onboardMaxMs = r.onboardMaxMs ?? Math.max(300_000, onboardInitialMs);
  const uploadMaxMs = r.uploadMaxMs ?? Math.max(base.chunks?.maxRetryWaitMs ?? 540_000, uploadInitialMs);
  if (onboardMaxMs < onboardInitialMs) throw new InputError(`retry.onboardMaxMs (${onboardMaxMs}) must not be below retry.onboardInitialMs (${onboardInitialMs})`);
  if (uploadMaxMs < uploadInitialMs) throw new InputError(`retry.uploadMaxMs (${uploadMaxMs}) must not be below retry.uploadInitialMs (${uploadInitialMs})`);
  const model: BehaviorModel = base.chunks
    ? {
        ...base,
        chunks: {
          ...base.chunks,
          ...options.buffer,
          retryWaitMs: uploadInitialMs,
          maxRetryWaitMs: uploadMaxMs,
          jitter: r.jitter ?? base.chunks.jitter,
          retryLimit: r.retryLimit ?? base.chunks.retryLimit,
        },
      }
    : base;
  return {
    model,
    // The chunked models bound their buffer in bytes and chunks; a record cap applies only when asked for.
    queueLimit: options.queueLimit ?? (model.chunks ? Number.MAX_SAFE_INTEGER : 10_000),
    batchSize: options.batchSize ?? 500,
    volume: { ...DEFAULT_VOLUME, ...options.volume },
    schedule: {
      collectIntervalMs: options.schedule?.collectIntervalMs ?? 60_000,
      topologyHeartbeatMs: options.schedule?.topologyHeartbeatMs ?? osDefaults.topologyHeartbeatMs,
      heartbeatRowsMs: options.schedule?.heartbeatRowsMs ?? osDefaults.heartbeatRowsMs,
    },
    onboardRetry: { initialMs: onboardInitialMs, maxMs: onboardMaxMs, jitter: r.jitter },
    uploadRetry: { initialMs: uploadInitialMs, maxMs: uploadMaxMs, jitter: r.jitter, retryLimit: r.retryLimit },
  };
}
