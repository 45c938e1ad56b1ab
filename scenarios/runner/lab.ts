import type { ExternalGateway } from './external.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import { unmapIpv4 } from '../../lib/ip.js';
import type { RecordState } from '../../lib/records/index.js';
import type { AgentTlsDef, LoadedScenario, WorkspaceDef } from './definitions.js';
import { EventCollector } from './events.js';
import { DEFAULT_GATEWAY } from './gateway-names.js';

/** What the runner needs of a gateway child process (gateway/process.ts spawnGateway). */
export interface GatewayProcessHandle {
  proxyPort: number;
  adminPort?: number;
  adminUrl?: string;
  pid: number;
  kill(signal?: NodeJS.Signals): void;
  stop(): Promise<unknown>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What the runner needs of the fake cloud (fake-oms-endpoints/index.ts). */
export interface CloudHandle {
  caCertPem: string;
  proxyUrl: string;
  hostMapEntries(): string[];
  /** Records ingested per agent id (all data types) and per agent id + data type. */
  ingested(): { agentId: string; dataType: string; records: number; recordIds: string[]; duplicates: number }[];
  setFault(fault: Record<string, unknown>): string;
  clearFaults(id?: string): void;
  close(): Promise<void>;
}

export interface AgentStatusLike {
  state: string;
  onboarded: boolean;
  queued: number;
  delivered: number;
  dropped: number;
  /** Failed calls so far. */
  errors: number;
  lastError?: string;
}

/** What the runner needs of one simulated agent (simulators/agent-core). */
export interface AgentHandle {
  id: string;
  onboard(): Promise<unknown>;
  runOnce(): Promise<unknown>;
  start(): void;
  close(): Promise<void>;
  status(): AgentStatusLike;
  /** Ids of every record this agent created (for created = ingested). */
  createdRecordIds(): string[];
  /** Every record it created with its state (queued, in flight, acknowledged, dropped). */
  /** Every record the agent created, with its state and how many times it was sent. */
  records(): { id: string; state: RecordState; attempts: number; dropReason?: string; createdAt: number }[];
  /** The agent's behaviour model (omsagent, mma, ideal; ama for the Azure Monitor Agent). */
  behavior: string;
  /** Resolves once no call of the agent is in flight (agents that cannot tell are not waited for). */
  settled?(): Promise<void>;
}

export interface AgentSpec {
  os: 'linux' | 'windows' | 'ama';
  workspace: WorkspaceDef & { key: string };
  proxy: string;
  caPem: string;
  seed: number;
  bindAddress: string;
  clock: ManualClock;
  tls?: AgentTlsDef;
  behavior?: 'omsagent' | 'mma' | 'ideal';
  retry?: { uploadInitialMs?: number; uploadMaxMs?: number; retryLimit?: number };
  /** Position of the agent in the lab (0-based), for key sharing. */
  index: number;
}

/** Factories for the parts; the real ones are in parts.ts, tests may pass others. */
export interface PartsFactory {
  /** `omsgw gateway init` into dir: writes the default allowlist and config for workspace. */
  initGateway(dir: string, workspaceId: string): Promise<void>;
  spawnGateway(args: string[]): Promise<GatewayProcessHandle>;
  /** port: a fixed port (an external proxy is configured to reach it); default ephemeral. */
  startCloud(opts: { stateDir: string; workspaces: { id: string; key: string }[]; clock: ManualClock; port?: number }): Promise<CloudHandle>;
  createAgent(spec: AgentSpec): AgentHandle;
  startBalancer(opts: { backends: { name: string; host: string; port: number }[]; checkIntervalMs?: number; fall?: number; rise?: number }): Promise<BalancerHandle>;
}

export interface LabAgent {
  name: string;
  group: string;
  os: 'linux' | 'windows' | 'ama';
  bindAddress: string;
  workspaceId: string;
  handle: AgentHandle;
  /** The promise of the agent's last run-once, so waits can see it settle. */
  running?: Promise<unknown>;
}

/** Lets the agent's last run-once settle, then closes it (queued records are kept). */
export async function closeAgent(agent: LabAgent): Promise<void> {
  await agent.running;
  await agent.handle.close();
}

/** One named gateway of the lab, across its processes (restarts keep its folder and proxy port). */
export interface GatewayState {
  name: string;
  /** Its folder: allowlists and gateway.json written by `gateway init`. */
  dir: string;
  /** The running process, if any. */
  handle?: GatewayProcessHandle;
  /** 0 before the first start, then 1, 2, ... per process. */
  generation: number;
  /** Args of the last successful start, reused by restart. */
  args?: string[];
  manualClock: boolean;
  /** Kept across restarts so the agents' proxy URL stays valid. */
  proxyPort?: number;
  /** How its last process ended. */
  ended?: 'stopped' | 'killed';
  /** Last counters read from its management API (for a killed gateway: just before the kill). */
  lastCounters?: Record<string, unknown>;
}

export type RunningGateway = GatewayState & { handle: GatewayProcessHandle };

/** What the runner needs of the load balancer (reliability/haproxy.ts HaproxyHandle). */
export interface BalancerHandle {
  host: string;
  port: number;
  pid: number;
  backendStates(): Promise<Record<string, string>>;
  waitForBackend(name: string, state: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Everything a running scenario has started; steps read and change it, the runner tears it down. */
export class Lab {
  readonly clock: ManualClock;
  readonly workDir: string;
  readonly startedAt = Date.now();
  readonly events: EventCollector;
  readonly workspaces: (WorkspaceDef & { key: string })[];
  cloud?: CloudHandle;
  /** Every gateway started so far, by name (running or not). */
  readonly gateways = new Map<string, GatewayState>();
  balancer?: BalancerHandle;
  readonly agents: LabAgent[] = [];
  private readonly clientNames = new Map<string, string>();
  private nextSubnet = 10;
  private probeCount = 0;

  constructor(
    readonly scenario: LoadedScenario,
    readonly parts: PartsFactory,
    readonly external?: ExternalGateway,
  ) {
    const start = scenario.def.clock?.start ? Date.parse(scenario.def.clock.start) : Date.UTC(2016, 2, 1, 9, 0, 0);
    this.clock = new ManualClock(start);
    this.workDir = mkdtempSync(join(tmpdir(), `omsgw-scenario-${scenario.def.name}-`));
    this.workspaces = scenario.def.workspaces.map((w, i) => ({ id: w.id, key: w.key ?? Buffer.from(`omsgw-lab-key-${i}-${w.id}`).toString('base64') }));
    this.events = new EventCollector(this.startedAt, (ip) => (ip ? this.clientNames.get(unmapIpv4(ip)) : undefined));
  }

  /**
   * Where agents and probes send their CONNECTs: the external proxy, the balancer (`via:
   * balancer`), a named gateway, or else the default / only gateway.
   */
  proxyAddress(via?: string): { host: string; port: number } | undefined {
    if (this.external) return this.external;
    if (via === 'balancer') {
      if (!this.balancer) throw new Error('via: balancer, but no balancer is running (balancer.start)');
      return { host: this.balancer.host, port: this.balancer.port };
    }
    if (via === undefined && this.gateways.size === 0) return undefined;
    const gw = this.gatewayNamed(via);
    return gw.proxyPort ? { host: '127.0.0.1', port: gw.proxyPort } : undefined;
  }

  /** The state of gateway `name`, created (not started) on first use. */
  gatewayState(name: string = DEFAULT_GATEWAY): GatewayState {
    let gw = this.gateways.get(name);
    if (!gw) {
      gw = { name, dir: join(this.workDir, name === DEFAULT_GATEWAY ? 'gateway' : `gateway-${name}`), generation: 0, manualClock: false };
      this.gateways.set(name, gw);
    }
    return gw;
  }

  /**
   * A gateway the scenario started: by name, or (no name) the default one, or the only one.
   * With several and no name, the step must say which.
   */
  gatewayNamed(name?: string): GatewayState {
    if (name !== undefined) {
      const gw = this.gateways.get(name);
      if (!gw) throw new Error(`gateway "${name}" was never started; started so far: ${[...this.gateways.keys()].join(', ') || 'none'}`);
      return gw;
    }
    const byDefault = this.gateways.get(DEFAULT_GATEWAY);
    if (byDefault) return byDefault;
    if (this.gateways.size === 1) return [...this.gateways.values()][0];
    if (this.gateways.size === 0) throw new Error('the gateway was never started (gateway.start)');
    throw new Error(`there are several gateways (${[...this.gateways.keys()].join(', ')}): say which one with its name`);
  }

  /** The running process of a gateway (see gatewayNamed), or an error saying it is not running. */
  runningGateway(name?: string): RunningGateway {
    const gw = this.gatewayNamed(name);
    if (!gw.handle) throw new Error(`${describeGateway(gw)} is not running`);
    return gw as RunningGateway;
  }

  /** The management API of a running gateway (undefined when it is not running). */
  adminUrlOf(name?: string): string | undefined {
    return this.gateways.size ? this.gatewayNamed(name).handle?.adminUrl : undefined;
  }

  /** Each gateway process writes its own event log file, so nothing is missed when it stops or dies. */
  eventLogFile(name: string, generation: number): string {
    return join(this.workDir, name === DEFAULT_GATEWAY ? `gateway-events-${generation}.jsonl` : `gateway-${name}-events-${generation}.jsonl`);
  }

  /** A fresh /24 for a group of agents, so each agent is a distinct client by source address. */
  allocateSubnet(): string {
    return `127.0.${this.nextSubnet++}.0/24`;
  }

  /**
   * Names the client behind a source address. Two clients on one address would be one client to the
   * gateway (Connected Client) and its events would be told as the other's, so that is an error.
   */
  registerClient(ip: string, name: string): void {
    const key = unmapIpv4(ip);
    const taken = this.clientNames.get(key);
    if (taken !== undefined && taken !== name) throw new Error(`source address ${key} is already used by ${taken}; give ${name} a bindRange that does not overlap`);
    this.clientNames.set(key, name);
  }

  /** A source address and name for a raw probe. */
  newProbe(as?: string): { name: string; bindAddress: string } {
    this.probeCount++;
    const name = as ?? `probe-${this.probeCount}`;
    const bindAddress = `127.0.250.${this.probeCount}`;
    this.registerClient(bindAddress, name);
    return { name, bindAddress };
  }

  /** Agents named by a selector: all, a group name (linux), or one agent (linux-1). */
  select(selector?: string): LabAgent[] {
    if (!selector) return this.agents;
    const byGroup = this.agents.filter((a) => a.group === selector);
    if (byGroup.length > 0) return byGroup;
    const one = this.agents.filter((a) => a.name === selector);
    if (one.length > 0) return one;
    throw new Error(`no agents match "${selector}"; started so far: ${this.agents.map((a) => a.name).join(', ') || 'none'}`);
  }

  /**
   * The client names (agents and probes) a `client:` selector stands for. A name nobody has would
   * select no events at all, and an expected absence would then pass without looking at anything:
   * so it is an error, listing the names there are.
   */
  clientNamesFor(selector: string): Set<string> {
    const names = new Set<string>();
    for (const a of this.agents) if (a.group === selector || a.name === selector) names.add(a.name);
    for (const name of this.clientNames.values()) if (name === selector) names.add(name);
    if (names.size === 0) {
      const known = [...new Set([...this.agents.map((a) => a.group), ...this.clientNames.values()])];
      throw new Error(`no agent, agent group or probe is called "${selector}"; known so far: ${known.join(', ') || 'none'}`);
    }
    return names;
  }

  workspace(id?: string): WorkspaceDef & { key: string } {
    if (!id) return this.workspaces[0];
    const ws = this.workspaces.find((w) => w.id === id);
    if (!ws) throw new Error(`unknown workspace ${id}`);
    return ws;
  }

  /** Stops everything, in reverse order of dependence; never throws. */
  async teardown(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    await Promise.all(this.agents.map((a) => attempt(`close ${a.name}`, () => closeAgent(a))));
    if (this.balancer) {
      const lb = this.balancer;
      await attempt('stop balancer', () => lb.stop());
      this.balancer = undefined;
    }
    await attempt('final event read', () => this.events.poll());
    await Promise.all(
      [...this.gateways.values()].map(async (gw) => {
        const handle = gw.handle;
        if (!handle) return;
        await attempt(`stop ${describeGateway(gw)}`, () => handle.stop());
        this.events.detach(gw.name);
        this.events.readFile(this.eventLogFile(gw.name, gw.generation), gw.name, gw.generation);
        gw.handle = undefined;
        gw.ended = 'stopped';
      }),
    );
    if (this.cloud) await attempt('close cloud', () => this.cloud!.close());
    rmSync(this.workDir, { recursive: true, force: true });
    return problems;
  }
}

/** "the gateway" for the default one, "gateway gw1" for a named one (for messages). */
export function describeGateway(gw: Pick<GatewayState, 'name'>): string {
  return gw.name === DEFAULT_GATEWAY ? 'the gateway' : `gateway ${gw.name}`;
}

