import { InputError } from '../../lib/errors.js';
import { parseBindRange } from '../agent-core/cidr.js';
import { addRecordCounts, type OsTotals } from '../agent-core/fleet.js';
import { assertLedgerInvariant, sumSummaries, type LedgerSummary } from '../agent-core/ledger.js';
import { AmaAgent } from './agent.js';
import type { AmaAgentOptions } from './options.js';

export interface AmaFleetOptions extends Omit<AmaAgentOptions, 'index' | 'bindAddress'> {
  count: number;
  /** Loopback CIDR; agent i binds the i-th usable address (from `firstAddress`). */
  bindRange?: string;
  /** Skip this many addresses of the range (when another fleet uses its start). */
  firstAddress?: number;
  /** Identity indexes start here (so a mixed run never gives two agents one identity). */
  firstIndex?: number;
}

/**
 * Totals over the fleet, in the same terms as agent-core's per-OS totals; an AMA has no omsagent
 * onboarding or agent-service registration, so it counts configured agents instead.
 */
export interface AmaFleetTotals extends Omit<OsTotals, 'onboarded' | 'registered'> {
  configured: number;
}

/** Azure Monitor Agents side by side (each with its own loopback IMDS), agent i bound to the i-th address. */
export class AmaFleet {
  readonly agents: AmaAgent[] = [];

  constructor(o: AmaFleetOptions) {
    if (!(Number.isInteger(o.count) && o.count >= 0 && o.count <= 10_000)) throw new InputError(`AMA fleet count must be a whole number from 0 to 10000, got ${o.count}`);
    const first = o.firstAddress ?? 0;
    const addresses = o.bindRange ? parseBindRange(o.bindRange).addresses : [];
    if (o.bindRange && first + o.count > addresses.length) throw new InputError(`bind range ${o.bindRange} has ${addresses.length} addresses, not ${first + o.count}`);
    const { count: _c, bindRange: _b, firstAddress: _f, firstIndex, ...agentOptions } = o;
    for (let i = 0; i < o.count; i++) this.agents.push(new AmaAgent({ ...agentOptions, index: (firstIndex ?? 0) + i, bindAddress: addresses[first + i] }));
  }

  start(): void {
    for (const a of this.agents) a.start();
  }

  /** One configure + collect + flush per agent; resolves with the failures (each agent keeps its data). */
  async runOnce(): Promise<{ agent: AmaAgent; error: Error }[]> {
    const failures: { agent: AmaAgent; error: Error }[] = [];
    await Promise.all(this.agents.map((a) => a.runOnce().catch((error: Error) => void failures.push({ agent: a, error }))));
    return failures;
  }

  totals(): AmaFleetTotals {
    const t: AmaFleetTotals = { agents: this.agents.length, configured: 0, created: 0, queued: 0, delivered: 0, dropped: 0, errors: 0, failing: 0 };
    for (const a of this.agents) {
      const s = a.status();
      if (s.configured) t.configured++;
      addRecordCounts(t, s);
      if (s.state === 'retrying' || (!s.configured && s.lastFailure)) t.failing++;
    }
    return t;
  }

  /** The summed ledger; throws when created != acknowledged + queued + dropped. */
  summary(): LedgerSummary {
    const s = sumSummaries(this.agents.map((a) => a.summary()));
    assertLedgerInvariant(s, 'ama fleet');
    return s;
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.close()));
  }
}
