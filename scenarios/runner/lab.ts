import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import type { AgentTlsDef, LoadedScenario, WorkspaceDef } from './definitions.js';
import { EventCollector } from './events.js';
import { closeAgent } from './steps/agents.js';

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
}

export interface AgentSpec {
  os: 'linux' | 'windows';
  workspace: WorkspaceDef & { key: string };
  proxy: string;
  caPem: string;
  seed: number;
  bindAddress: string;
  clock: ManualClock;
  tls?: AgentTlsDef;
  /** Position of the agent in the lab (0-based), for key sharing. */
  index: number;
}

/** Factories for the parts; the real ones are in parts.ts, tests may pass others. */
export interface PartsFactory {
  /** `omsgw gateway init` into dir: writes the default allowlist and config for workspace. */
  initGateway(dir: string, workspaceId: string): Promise<void>;
  spawnGateway(args: string[]): Promise<GatewayProcessHandle>;
  startCloud(opts: { stateDir: string; workspaces: { id: string; key: string }[]; clock: ManualClock }): Promise<CloudHandle>;
  createAgent(spec: AgentSpec): AgentHandle;
}

export interface LabAgent {
  name: string;
  group: string;
  os: 'linux' | 'windows';
  bindAddress: string;
  workspaceId: string;
  handle: AgentHandle;
  /** The promise of the agent's last run-once, so waits can see it settle. */
  running?: Promise<unknown>;
}

export interface GatewayState {
  handle: GatewayProcessHandle;
  generation: number;
  args: string[];
  manualClock: boolean;
}

/** Everything a running scenario has started; steps read and change it, the runner tears it down. */
export class Lab {
  readonly clock: ManualClock;
  readonly workDir: string;
  readonly gatewayDir: string;
  readonly startedAt = Date.now();
  readonly events: EventCollector;
  readonly workspaces: (WorkspaceDef & { key: string })[];
  cloud?: CloudHandle;
  gateway?: GatewayState;
  /** Args of the last gateway start, reused by restart. */
  lastGatewayArgs?: string[];
  lastGatewayManualClock = false;
  /** Kept across restarts so the agents' proxy URL stays valid. */
  proxyPort?: number;
  generation = 0;
  readonly agents: LabAgent[] = [];
  private readonly clientNames = new Map<string, string>();
  private nextSubnet = 10;
  private probeCount = 0;

  constructor(
    readonly scenario: LoadedScenario,
    readonly parts: PartsFactory,
    readonly external?: { host: string; port: number },
  ) {
    const start = scenario.def.clock?.start ? Date.parse(scenario.def.clock.start) : Date.UTC(2016, 2, 1, 9, 0, 0);
    this.clock = new ManualClock(start);
    this.workDir = mkdtempSync(join(tmpdir(), `omsgw-scenario-${scenario.def.name}-`));
    this.gatewayDir = join(this.workDir, 'gateway');
    this.workspaces = scenario.def.workspaces.map((w, i) => ({ id: w.id, key: w.key ?? Buffer.from(`omsgw-lab-key-${i}-${w.id}`).toString('base64') }));
    this.events = new EventCollector(this.startedAt, (ip) => (ip ? this.clientNames.get(normaliseIp(ip)) : undefined));
  }

  /** Where agents and probes send their CONNECTs. */
  proxyAddress(): { host: string; port: number } | undefined {
    if (this.external) return this.external;
    return this.proxyPort ? { host: '127.0.0.1', port: this.proxyPort } : undefined;
  }

  get adminUrl(): string | undefined {
    return this.gateway?.handle.adminUrl;
  }

  /** Each gateway process writes its own event log file, so nothing is missed when it stops or dies. */
  eventLogFile(generation: number): string {
    return join(this.workDir, `gateway-events-${generation}.jsonl`);
  }

  /** A fresh /24 for a group of agents, so each agent is a distinct client by source address. */
  allocateSubnet(): string {
    return `127.0.${this.nextSubnet++}.0/24`;
  }

  registerClient(ip: string, name: string): void {
    this.clientNames.set(normaliseIp(ip), name);
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

  clientNamesFor(selector: string): Set<string> {
    const names = new Set<string>([selector]);
    for (const a of this.agents) if (a.group === selector || a.name === selector) names.add(a.name);
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
    if (this.gateway) {
      const gw = this.gateway;
      await attempt('final event read', () => this.events.poll());
      await attempt('stop gateway', () => gw.handle.stop());
      this.events.detach();
      this.events.readFile(this.eventLogFile(gw.generation), gw.generation);
      this.gateway = undefined;
    }
    if (this.cloud) await attempt('close cloud', () => this.cloud!.close());
    rmSync(this.workDir, { recursive: true, force: true });
    return problems;
  }
}

function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
