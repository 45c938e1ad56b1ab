import { EventEmitter } from 'node:events';
import { InputError } from '../../lib/errors.js';
import type { AgentOptions, AgentStatus, DeliveredEvent, FailedEvent, SimulatedAgent } from './agent.js';
import { sharedKeyPool, type KeyPool } from './certificate.js';
import { parseBindRange } from './cidr.js';
import type { AgentOs } from './identity.js';
import { assertLedgerInvariant, sumSummaries, type LedgerSummary } from './ledger.js';

export type AgentFactory = (options: AgentOptions) => SimulatedAgent;

export interface FleetOptions extends Omit<AgentOptions, 'os' | 'index' | 'bindAddress' | 'keyPool'> {
  count: number;
  /** Every agent of this OS… */
  os?: AgentOs;
  /** …or a mix: counts or weights per OS, e.g. { windows: 3, linux: 1 } (rounded, in proportion). */
  mix?: Partial<Record<AgentOs, number>>;
  /** Loopback CIDR; agent i binds the i-th usable address. Without it, agents use the default source address. */
  bindRange?: string;
  /** Keys shared by the fleet; default: a process-wide pool of min(count, keyPoolSize) keys. */
  keyPool?: KeyPool;
  keyPoolSize?: number;
  /** Folder where the key pool keeps its keys between runs. */
  keyCacheDir?: string;
  /** Onboarding calls in flight at once during onboardAll/runOnce (default 32). */
  concurrency?: number;
}

export interface OsTotals {
  agents: number;
  onboarded: number;
  /** Linux agents registered with the agent service. */
  registered: number;
  created: number;
  queued: number;
  delivered: number;
  dropped: number;
  errors: number;
  /** Agents whose last onboarding/agent-service/upload call failed. */
  failing: number;
}

/** The record and error counts every agent kind reports, summed the same way over a fleet. */
export type RecordCounts = Pick<OsTotals, 'created' | 'queued' | 'delivered' | 'dropped' | 'errors'>;

/** Adds one agent's record and error counts into a fleet total. */
export function addRecordCounts(into: RecordCounts, agent: RecordCounts): void {
  into.created += agent.created;
  into.queued += agent.queued;
  into.delivered += agent.delivered;
  into.dropped += agent.dropped;
  into.errors += agent.errors;
}

export interface FleetStatus {
  agents: number;
  byOs: Partial<Record<AgentOs, OsTotals>>;
  total: OsTotals;
  /** Distinct last errors with the number of agents reporting each. */
  lastErrors: { message: string; agents: number }[];
}

export type FleetCondition =
  | { onboarded: number | 'all' }
  | { registered: number | 'all' }
  | { delivered: number }
  | { created: number }
  | ((s: FleetStatus) => boolean);

interface FleetEvents {
  onboarded: [AgentStatus, SimulatedAgent];
  registered: [AgentStatus, SimulatedAgent];
  delivered: [DeliveredEvent, SimulatedAgent];
  failed: [FailedEvent, SimulatedAgent];
  dropped: [{ reason: string; count: number }, SimulatedAgent];
  status: [AgentStatus, SimulatedAgent];
}

/** Splits count agents between OSes in proportion to the mix (largest remainders). */
export function splitMix(count: number, mix: Partial<Record<AgentOs, number>>): AgentOs[] {
  const entries = (Object.entries(mix) as [AgentOs, number][]).filter(([, w]) => w > 0);
  for (const [os, w] of Object.entries(mix)) {
    if (os !== 'linux' && os !== 'windows') throw new InputError(`mix names an unknown OS "${os}": use linux and/or windows`);
    if (!(typeof w === 'number' && w >= 0 && Number.isFinite(w))) throw new InputError(`mix weight for ${os} must be a number >= 0, got ${w}`);
  }
  const total = entries.reduce((a, [, w]) => a + w, 0);
  if (total <= 0) throw new InputError('mix must give a positive weight to linux or windows');
  const exact = entries.map(([os, w]) => ({ os, n: (count * w) / total }));
  const floors = exact.map((e) => ({ os: e.os, n: Math.floor(e.n), rem: e.n - Math.floor(e.n) }));
  let left = count - floors.reduce((a, e) => a + e.n, 0);
  for (const e of [...floors].sort((a, b) => b.rem - a.rem)) {
    if (left-- <= 0) break;
    e.n++;
  }
  // Interleave so any prefix of the fleet has roughly the mix: next is the OS furthest behind its share.
  const out: AgentOs[] = [];
  const given = new Map(floors.map((e) => [e.os, 0]));
  for (let i = 0; i < count; i++) {
    let pick = floors[0]!;
    let best = Infinity;
    for (const e of floors) {
      const g = given.get(e.os)!;
      if (g >= e.n) continue;
      const progress = (g + 1) / e.n;
      if (progress < best) {
        best = progress;
        pick = e;
      }
    }
    given.set(pick.os, given.get(pick.os)! + 1);
    out.push(pick.os);
  }
  return out;
}

export class Fleet extends EventEmitter<FleetEvents> {
  readonly agents: SimulatedAgent[];
  private readonly concurrency: number;

  constructor(options: FleetOptions, factory: AgentFactory) {
    super();
    const { count, os, mix, bindRange, keyPoolSize, keyCacheDir, concurrency, ...agentOptions } = options;
    if (!Number.isInteger(count) || count < 1) throw new InputError(`count must be a positive whole number, got ${count}`);
    if (os && mix) throw new InputError('give either os or mix, not both');
    if (!os && !mix) throw new InputError('give os (linux or windows) or a mix such as { windows: 1, linux: 1 }');
    if (os && os !== 'linux' && os !== 'windows') throw new InputError(`os must be linux or windows, got ${os}`);
    const oses = os ? Array<AgentOs>(count).fill(os) : splitMix(count, mix!);
    let addresses: string[] | undefined;
    if (bindRange !== undefined) {
      addresses = parseBindRange(bindRange).addresses;
      if (addresses.length < count) throw new InputError(`bind range ${bindRange} has ${addresses.length} usable addresses, fewer than the ${count} agents asked for: use a larger range (e.g. /${Math.max(8, 32 - Math.ceil(Math.log2(count + 2)))})`);
    }
    // concurrency 0 would make onboardAll/runOnce resolve at once having done nothing.
    for (const [name, v] of [['concurrency', concurrency], ['keyPoolSize', keyPoolSize]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new InputError(`${name} must be a whole number >= 1, got ${v}`);
    }
    this.concurrency = concurrency ?? 32;
    const keyPool = options.keyPool ?? sharedKeyPool(Math.min(count, keyPoolSize ?? 16), keyCacheDir);
    this.agents = oses.map((agentOs, index) => {
      const agent = factory({ ...agentOptions, os: agentOs, index, bindAddress: addresses?.[index], keyPool });
      for (const ev of ['onboarded', 'registered', 'delivered', 'failed', 'dropped', 'status'] as const) {
        (agent.on as (e: string, fn: (payload: unknown) => void) => unknown)(ev, (payload) => {
          (this.emit as (e: string, ...a: unknown[]) => boolean)(ev, payload, agent);
        });
      }
      return agent;
    });
  }

  /** Generates every agent's certificate now (they are otherwise made on first use). */
  async prepare(): Promise<void> {
    await this.limited((a) => a.certificate());
  }

  start(): void {
    for (const a of this.agents) a.start();
  }

  /** Onboards every agent; resolves with the agents that failed and why (never rejects). */
  async onboardAll(): Promise<{ agent: SimulatedAgent; error: Error }[]> {
    const failures: { agent: SimulatedAgent; error: Error }[] = [];
    await this.limited((a) => a.onboard().catch((error: Error) => void failures.push({ agent: a, error })));
    return failures;
  }

  /** runOnce on every agent; resolves with the failures (never rejects). */
  async runOnce(): Promise<{ agent: SimulatedAgent; error: Error }[]> {
    const failures: { agent: SimulatedAgent; error: Error }[] = [];
    await this.limited((a) => a.runOnce().then(() => undefined, (error: Error) => void failures.push({ agent: a, error })));
    return failures;
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.close()));
  }

  /** The fleet's ledger; throws if any agent's books do not balance. */
  summary(): LedgerSummary {
    const each = this.agents.map((a) => {
      const s = a.ledger.summary();
      assertLedgerInvariant(s, `agent ${a.identity.hostname}`);
      return s;
    });
    const total = sumSummaries(each);
    assertLedgerInvariant(total, 'fleet');
    return total;
  }

  status(): FleetStatus {
    const empty = (): OsTotals => ({ agents: 0, onboarded: 0, registered: 0, created: 0, queued: 0, delivered: 0, dropped: 0, errors: 0, failing: 0 });
    const byOs: Partial<Record<AgentOs, OsTotals>> = {};
    const total = empty();
    const errs = new Map<string, number>();
    for (const a of this.agents) {
      const s = a.status();
      const t = (byOs[s.os] ??= empty());
      for (const acc of [t, total]) {
        acc.agents++;
        if (s.onboarded) acc.onboarded++;
        if (s.agentServiceRegistered) acc.registered++;
        addRecordCounts(acc, s);
        if (s.lastCallFailed) acc.failing++;
      }
      if (s.lastError && s.lastCallFailed) {
        const key = s.lastError.replace(/request-id=[^;]+;/, 'request-id=…;');
        errs.set(key, (errs.get(key) ?? 0) + 1);
      }
    }
    return { agents: this.agents.length, byOs, total, lastErrors: [...errs].map(([message, agents]) => ({ message, agents })).sort((a, b) => b.agents - a.agents) };
  }

  /** Resolves when the fleet-wide condition holds; rejects after timeoutMs of real time (default 60 s). */
  waitFor(cond: FleetCondition, opts: { timeoutMs?: number } = {}): Promise<FleetStatus> {
    const test = (s: FleetStatus): boolean => {
      if (typeof cond === 'function') return cond(s);
      if ('onboarded' in cond) return s.total.onboarded >= (cond.onboarded === 'all' ? s.agents : cond.onboarded);
      if ('registered' in cond) return s.total.registered >= (cond.registered === 'all' ? (s.byOs.linux?.agents ?? 0) : cond.registered);
      if ('delivered' in cond) return s.total.delivered >= cond.delivered;
      return s.total.created >= cond.created;
    };
    if (test(this.status())) return Promise.resolve(this.status());
    return new Promise((resolve, reject) => {
      // Status changes come in bursts from many agents: evaluate at most once per turn of the event loop.
      let pending: NodeJS.Immediate | undefined;
      const evaluate = () => {
        pending = undefined;
        const s = this.status();
        if (test(s)) {
          cleanup();
          resolve(s);
        }
      };
      const check = () => {
        pending ??= setImmediate(evaluate);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fleet: timed out after ${opts.timeoutMs ?? 60_000} ms waiting for ${typeof cond === 'function' ? 'a custom condition' : JSON.stringify(cond)}; ${JSON.stringify(this.status().total)}`));
      }, opts.timeoutMs ?? 60_000);
      const cleanup = () => {
        clearTimeout(timer);
        if (pending) clearImmediate(pending);
        this.off('status', check);
      };
      this.on('status', check);
    });
  }

  private async limited(fn: (a: SimulatedAgent) => Promise<unknown>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < this.agents.length) await fn(this.agents[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, this.agents.length) }, worker));
  }
}
