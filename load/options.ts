import type { JSONSchemaType } from 'ajv';
import type { Clock } from '../lib/clock.js';
import { InputError } from '../lib/errors.js';
import { schemaCheck } from '../lib/validate.js';
import { assertLoopback } from '../harness/driver/loopback.js';
import type { Endpoint } from '../harness/driver/types.js';
import { BEHAVIORS, type AgentBehavior } from '../simulators/agent-core/behavior.js';
import type { RemoteLab } from './shard/lab.js';
import type { ShardSpec } from './shard/spec.js';

export type LoadProfile = 'agents' | 'churn' | 'keepalive' | 'idle';
export const PROFILES: LoadProfile[] = ['agents', 'churn', 'keepalive', 'idle'];

/** The data of a load run (what the JSON report echoes); checked by LOAD_OPTIONS_SCHEMA. */
export interface LoadSettings {
  profile: LoadProfile;
  /** agents: fleet size; churn/keepalive/idle: connections. */
  count: number;
  durationMs: number;
  /** agents: agents join linearly over this time. */
  rampUpMs: number;
  /** Most agent cycles (or tunnel openings) in flight at once. */
  concurrency: number;
  /** Forbidden-target CONNECTs per second (expected 403 rejections), paced over the whole run. */
  forbiddenRate: number;
  /** CONNECTs per second to an allowed host whose upstream is down (expected 502 errors), paced over the whole run. */
  errorRate: number;
  /** Plain-HTTP (non-CONNECT) requests sent with autocannon at the end: expected 405 refusals (event 104, no counter). */
  httpRefusals?: number;
  /** Sizing profile: about this many KB of data per agent per interval. */
  kbPerUpload: number;
  intervalMs: number;
  /** Time compression for the agents profile: an interval lasts intervalMs / speed of real time. */
  speed: number;
  /** Weights per agent kind; ama: Azure Monitor Agents (simulators/ama-agent). */
  mix: { windows: number; linux: number; ama?: number };
  /** Agents' behaviour model (default: the faithful one per OS). */
  behavior?: AgentBehavior;
  /** Any CONNECT proxy instead of starting omsgw. */
  gateway?: Endpoint;
  /** Management API of that gateway (for counters); without it the accuracy table is skipped. */
  adminUrl?: string;
  /** Fixed loopback port for the fake cloud (agents) or the bench upstream (other profiles), so an external proxy can be configured to route there. */
  targetPort?: number;
  seed: string;
  gatewayExecArgv?: string[];
  /** Real ms to let counters catch up at a quiescent point before calling it a deviation. */
  settleMs?: number;
  /** Shard k of n of a distributed run (--shard, --run-id): disjoint agents, seeds and source ranges. */
  shard?: ShardSpec;
  /** Lab API URL of a shared `omsgw cloud` (--cloud) instead of a fake cloud in this process. */
  cloudUrl?: string;
  /** Agents profile: spread the agents over this many agent processes (shards of this run) in lockstep rounds; 1 = in this process. */
  processes?: number;
}

/**
 * The parent of `omsgw load --processes N` as one of its agent processes sees it: the load window
 * and every round start and end for all processes at once (load/processes/).
 */
export interface RoundCoordinator {
  /** The fleet is prepared and onboarded; resolves when every process is, so the load window starts together. */
  ready(): Promise<void>;
  /** A round ended (its quiescent point taken): reports it; resolves with whether another round starts. */
  roundDone(r: { tick: number; roundMs: number; latenciesUs: number[]; sources: Iterable<string> }): Promise<boolean>;
  /** The final quiescent point (agents closed): the last source addresses. */
  end(sources: Iterable<string>): void;
}

export interface LoadOptions extends LoadSettings {
  /** The shared cloud behind cloudUrl, already checked: its CA and the workspace to use (the key is never echoed in a report). */
  remote?: { lab: RemoteLab; caCertPem: string; workspace: { id: string; key: string } };
  /** Paces ticks and progress (tests may pass a faster clock). */
  clock?: Clock;
  onProgress?: (line: string) => void;
  /** Set in an agent process of `--processes N` (the parent runs the rounds). */
  coordinator?: RoundCoordinator;
}

const whole = (minimum: number, maximum: number) => ({ type: 'integer' as const, minimum, maximum });

export const LOAD_OPTIONS_SCHEMA: JSONSchemaType<LoadSettings> = {
  type: 'object',
  additionalProperties: false,
  required: ['profile', 'count', 'durationMs', 'rampUpMs', 'concurrency', 'forbiddenRate', 'errorRate', 'kbPerUpload', 'intervalMs', 'speed', 'mix', 'seed'],
  properties: {
    profile: { type: 'string', enum: PROFILES },
    count: { type: 'integer' },
    durationMs: whole(100, 3_600_000),
    rampUpMs: whole(0, 3_600_000),
    concurrency: whole(1, 20_000),
    forbiddenRate: { type: 'number', minimum: 0, maximum: 1000 },
    errorRate: { type: 'number', minimum: 0, maximum: 1000 },
    httpRefusals: { ...whole(0, 1_000_000), nullable: true },
    kbPerUpload: { type: 'number', exclusiveMinimum: 0, maximum: 10_000 },
    intervalMs: whole(1, 3_600_000),
    speed: { type: 'number', exclusiveMinimum: 0, maximum: 10_000 },
    mix: {
      type: 'object',
      additionalProperties: false,
      required: ['windows', 'linux'],
      properties: { windows: { type: 'number', minimum: 0 }, linux: { type: 'number', minimum: 0 }, ama: { type: 'number', minimum: 0, nullable: true } },
    },
    behavior: { type: 'string', enum: [...BEHAVIORS], nullable: true },
    gateway: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: { host: { type: 'string', minLength: 1 }, port: whole(1, 65535) },
      nullable: true,
    },
    adminUrl: { type: 'string', nullable: true },
    targetPort: { ...whole(1, 65535), nullable: true },
    seed: { type: 'string' },
    gatewayExecArgv: { type: 'array', items: { type: 'string' }, nullable: true },
    settleMs: { ...whole(0, 600_000), nullable: true },
    shard: {
      type: 'object',
      additionalProperties: false,
      required: ['index', 'count', 'runId'],
      properties: { index: whole(1, 10_000), count: whole(1, 10_000), runId: { type: 'string', minLength: 1 } },
      nullable: true,
    },
    cloudUrl: { type: 'string', nullable: true },
    processes: { ...whole(1, 64), nullable: true },
  },
  // A fleet of simulated agents lives in this one process: fewer of them than tunnels.
  if: { properties: { profile: { const: 'agents' } } },
  then: { properties: { count: whole(1, 4000) } },
  else: { properties: { count: whole(1, 20_000) } },
} as JSONSchemaType<LoadSettings>;

/** The flag that sets each field (with the unit the value is checked in when the flag takes a duration). */
function flagOf(path: string, profile: unknown): string {
  const flags: Record<string, string> = {
    '/profile': '--profile',
    '/count': profile === 'agents' ? '--agents' : '--connections',
    '/durationMs': '--duration (ms)',
    '/rampUpMs': '--ramp-up (ms)',
    '/concurrency': '--concurrency',
    '/forbiddenRate': '--forbidden-rate (CONNECTs per second)',
    '/errorRate': '--error-rate (CONNECTs per second)',
    '/httpRefusals': '--http-refusals',
    '/kbPerUpload': '--kb-per-upload',
    '/intervalMs': '--interval (ms)',
    '/speed': '--speed',
    '/gateway/port': '--gateway port',
    '/targetPort': '--target-port',
    '/seed': '--seed',
    '/behavior': '--behavior',
    '/processes': '--processes',
  };
  return flags[path] ?? (path.startsWith('/mix') ? `--mix ${path.slice(5) || ''}`.trim() : `load option ${path.slice(1).replace(/\//g, '.')}`);
}

/** Throws an InputError (exit 2) naming the flag, what it allows and what it got; every problem at once. */
export function validateLoadOptions(o: LoadOptions): void {
  const { clock: _clock, onProgress: _progress, remote: _remote, coordinator: _coordinator, ...settings } = o;
  const check = schemaCheck<LoadSettings>(LOAD_OPTIONS_SCHEMA, { name: (p) => flagOf(p, o.profile), makeError: (m) => new InputError(m) });
  // Absent optional fields arrive as undefined from the CLI: the schema checks what was given.
  check.assert(Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)));
  // Beyond a schema: where the load may go (never off this machine) and a mix that can pick an OS.
  // With a shared cloud (--cloud) the run is part of a lab spread over machines: the gateway may be another pod.
  if (o.gateway && !o.remote) assertLoopback(o.gateway.host, '--gateway host');
  if (o.cloudUrl && !o.remote) throw new InputError('--cloud needs the cloud opened first (cli: --cloud with --workspace)');
  if (o.remote && o.profile !== 'agents') throw new InputError(`--cloud is for the agents profile (the fake cloud serves agents), not --profile ${o.profile}`);
  if (o.shard) {
    if (!o.remote) throw new InputError('--shard needs --cloud <lab API URL>: every shard must upload to one shared omsgw cloud');
    if (!o.gateway) throw new InputError('--shard needs --gateway <host:port>: every shard must load one shared gateway');
    if (o.adminUrl) throw new InputError('--admin has no effect with --shard: one shard cannot compare a shared gateway\'s counters; omsgw load merge --admin does, against every shard\'s truth');
    if (o.forbiddenRate > 0 || o.errorRate > 0 || o.httpRefusals) throw new InputError('--forbidden-rate, --error-rate and --http-refusals are not supported with --shard (their probe sources would be shared by the shards); drop them');
  }
  if ((o.processes ?? 1) > 1) {
    // The parent starts the cloud, the gateway and the shards itself: flags that point elsewhere would be ignored.
    if (o.profile !== 'agents') throw new InputError(`--processes spreads simulated agents over processes: it is for the agents profile, not --profile ${o.profile}`);
    if (o.shard) throw new InputError('--processes runs the shards of one run itself: drop --shard (or drop --processes to run one shard)');
    if (o.remote || o.cloudUrl) throw new InputError('--processes starts its own fake cloud for its agent processes: drop --cloud and --workspace');
    if (o.gateway) throw new InputError('--processes starts an omsgw gateway to compare its counters with every process\'s truth: drop --gateway');
    if (o.processes! > o.count) throw new InputError(`--processes ${o.processes} is more than --agents ${o.count}: every agent process needs at least one agent`);
  }
  if (o.adminUrl) {
    let u: URL;
    try {
      u = new URL(o.adminUrl);
    } catch {
      throw new InputError(`--admin must be a URL like http://127.0.0.1:8081, got "${o.adminUrl}"`);
    }
    assertLoopback(u.hostname, '--admin host');
  }
  if (o.behavior !== undefined && (o.mix.ama ?? 0) > 0) throw new InputError('--behavior models the legacy agents (windows, linux); the Azure Monitor Agents in --mix have their own model: drop ama from --mix or --behavior');
  if (o.mix.windows + o.mix.linux + (o.mix.ama ?? 0) <= 0) throw new InputError('--mix needs a positive weight for windows, linux or ama, e.g. windows=1,linux=1,ama=1');
}
