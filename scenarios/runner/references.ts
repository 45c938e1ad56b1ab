import { ManualClock } from '../../lib/clock.js';
import { GatewayCounters } from '../../gateway/counters/counters.js';
import type { ScenarioDef } from './definitions.js';

type Problem = { path: (string | number)[]; message: string };

/** Every counter name expect.counters can name: the gateway's snapshot keys, nested ones included. */
function knownCounters(): string[] {
  const snap = new GatewayCounters({ clock: new ManualClock(0), resetMinutes: 0, windowMinutes: 15 }).snapshot() as unknown as Record<string, unknown>;
  const names = new Set<string>();
  for (const [k, v] of Object.entries(snap)) {
    names.add(k);
    if (v && typeof v === 'object') for (const inner of Object.keys(v)) names.add(inner);
  }
  return [...names];
}

let counters: string[] | undefined;

/**
 * Names a scenario refers to before they exist (counters, agents, agent groups, probes): checked
 * against what its own steps start, so a typo is reported with the file's other problems instead of
 * failing at run time. Steps are only read, never trusted to be well-formed (the schema may have
 * refused them): anything of an unexpected shape is skipped.
 */
export function referenceProblems(def: ScenarioDef): Problem[] {
  const out: Problem[] = [];
  const steps = Array.isArray(def?.steps) ? (def.steps as unknown as Array<Record<string, unknown>>) : [];
  const groups = new Set<string>();
  const agents = new Set<string>();
  const probes = new Set<string>();
  let probeCount = 0;
  for (const s of steps) {
    if (!s || typeof s !== 'object') continue;
    if (s.do === 'agents.start' && typeof s.os === 'string') {
      const group = typeof s.group === 'string' ? s.group : s.os;
      groups.add(group);
      const count = typeof s.count === 'number' ? s.count : 1;
      for (let i = 1; i <= count; i++) agents.add(`${group}-${i}`);
    }
    if (typeof s.do === 'string' && s.do.startsWith('probe.')) {
      probeCount++;
      probes.add(typeof s.as === 'string' ? s.as : `probe-${probeCount}`);
    }
    if (s.do === 'balancer.start') probes.add('balancer');
  }
  const agentNames = () => [...groups, ...agents].join(', ') || 'none';
  const checkAgents = (selector: unknown, path: (string | number)[]) => {
    if (typeof selector === 'string' && !groups.has(selector) && !agents.has(selector)) out.push({ path, message: `no agent or agent group is called "${selector}"; agents.start steps start: ${agentNames()}` });
  };
  steps.forEach((s, i) => {
    if (!s || typeof s !== 'object') return;
    if (s.do === 'expect.counters' && s.counters && typeof s.counters === 'object') {
      counters ??= knownCounters();
      for (const name of Object.keys(s.counters)) if (!counters.includes(name)) out.push({ path: ['steps', i, 'counters', name], message: `unknown counter "${name}"; the gateway has: ${counters.join(', ')}` });
    }
    if (s.do === 'expect.events' && typeof s.client === 'string' && !groups.has(s.client) && !agents.has(s.client) && !probes.has(s.client)) {
      out.push({ path: ['steps', i, 'client'], message: `no agent, agent group or probe is called "${s.client}"; this scenario has: ${[...groups, ...agents, ...probes].join(', ') || 'none'}` });
    }
    if (['agents.run-once', 'agents.stop', 'agents.wait', 'expect.agents'].includes(String(s.do))) checkAgents(s.agents, ['steps', i, 'agents']);
    if (s.do === 'expect.ledger' && Array.isArray(s.records)) s.records.forEach((r: unknown, j: number) => checkAgents((r as { agents?: unknown } | null)?.agents, ['steps', i, 'records', j, 'agents']));
  });
  return out;
}
