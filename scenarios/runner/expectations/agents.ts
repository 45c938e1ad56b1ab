import type { ExpectAgentsStep } from '../definitions.js';
import { failed, passed, type StepImpl } from '../step-types.js';
import { inRange, showRange } from './counters.js';

export const expectAgents: StepImpl<ExpectAgentsStep> = {
  explain: (s) =>
    `${s.agents ?? 'all agents'}: ${[
      s.onboarded !== undefined && `onboarded=${s.onboarded}`,
      s.state && `state ${s.state}`,
      s.queued !== undefined && `queued ${showRange(s.queued)}`,
      s.delivered !== undefined && `delivered ${showRange(s.delivered)}`,
      s.dropped !== undefined && `dropped ${showRange(s.dropped)}`,
    ].filter(Boolean).join(', ')}`,
  async run(step, lab) {
    const agents = lab.select(step.agents);
    const expected: string[] = [];
    const actual: string[] = [];
    const problems: string[] = [];
    for (const a of agents) {
      const st = a.handle.status();
      const checks: [string, boolean, string, string][] = [];
      if (step.onboarded !== undefined) checks.push(['onboarded', st.onboarded === step.onboarded, String(step.onboarded), String(st.onboarded)]);
      if (step.state) checks.push(['state', st.state === step.state, step.state, st.state]);
      for (const k of ['queued', 'delivered', 'dropped'] as const) {
        const r = step[k];
        if (r !== undefined) checks.push([k, inRange(st[k], r), showRange(r), String(st[k])]);
      }
      for (const [k, ok, want, got] of checks) {
        expected.push(`${a.name} ${k} ${want}`);
        actual.push(`${a.name} ${k} ${got}`);
        if (!ok) problems.push(`${a.name} ${k} is ${got}, expected ${want}`);
      }
      if (st.lastError) actual.push(`${a.name} last error: ${st.lastError}`);
    }
    const summary = agents.map((a) => {
      const st = a.handle.status();
      return `${a.name} queued ${st.queued}, delivered ${st.delivered}, dropped ${st.dropped}`;
    }).join('; ');
    return problems.length ? failed(summary, { details: problems, expected, actual }) : passed(summary);
  },
};
