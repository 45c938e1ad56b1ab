import type { ExpectAgentsStep } from '../definitions.js';
import type { Lab, LabAgent } from '../lab.js';
import { failed, passed, type StepImpl } from '../step-types.js';
import { inRange, showRange } from './counters.js';

type RecordInfo = ReturnType<LabAgent['handle']['records']>[number];

/** `<guid>:3..7, <guid>:9` — record ids by their sequence numbers, runs folded. */
export function idRanges(ids: string[]): string {
  if (ids.length === 0) return 'none';
  const prefix = ids[0]!.slice(0, ids[0]!.lastIndexOf(':') + 1);
  const seqs = ids.map((id) => Number(id.slice(id.lastIndexOf(':') + 1))).sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < seqs.length; ) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    runs.push(i === j ? `${seqs[i]}` : `${seqs[i]}..${seqs[j]}`);
    i = j + 1;
  }
  return `${prefix}${runs.join(', ')}`;
}

const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** Dropped records of one agent grouped by reason: which records, created when. */
export function droppedByReason(records: RecordInfo[]): Map<string, RecordInfo[]> {
  const out = new Map<string, RecordInfo[]>();
  for (const r of records) {
    if (r.state !== 'dropped') continue;
    const reason = r.dropReason ?? '(no reason)';
    out.set(reason, [...(out.get(reason) ?? []), r]);
  }
  return out;
}

function describeDrops(a: LabAgent, byReason: Map<string, RecordInfo[]>): string[] {
  return [...byReason].map(([reason, recs]) => {
    const times = recs.map((r) => r.createdAt);
    return `${a.name} (${a.handle.behavior}) dropped ${recs.length} record(s), ${reason}: ${idRanges(recs.map((r) => r.id))} (created ${hhmmss(Math.min(...times))}–${hhmmss(Math.max(...times))})`;
  });
}

/** Created = delivered + queued + dropped with a reason, and the cloud holds every record the agent saw acknowledged. */
function ledgerProblems(lab: Lab, a: LabAgent, records: RecordInfo[]): string[] {
  const problems: string[] = [];
  const count = (state: string) => records.filter((r) => r.state === state).length;
  const acknowledged = count('acknowledged');
  const queued = count('queued') + count('sent');
  const dropped = count('dropped');
  if (acknowledged + queued + dropped !== records.length) problems.push(`${a.name}: created ${records.length} != delivered ${acknowledged} + queued ${queued} + dropped ${dropped}`);
  const noReason = records.filter((r) => r.state === 'dropped' && !r.dropReason).length;
  if (noReason) problems.push(`${a.name}: ${noReason} dropped record(s) without a reason`);
  const inCloud = new Set((lab.cloud?.ingested() ?? []).filter((x) => x.agentId === a.handle.id).flatMap((x) => x.recordIds));
  const missing = records.filter((r) => r.state === 'acknowledged' && !inCloud.has(r.id)).length;
  if (missing) problems.push(`${a.name}: ${missing} record(s) acknowledged but not in the cloud's ledger`);
  return problems;
}

export const expectAgents: StepImpl<ExpectAgentsStep> = {
  explain: (s) =>
    `${s.agents ?? 'all agents'}: ${[
      s.onboarded !== undefined && `onboarded=${s.onboarded}`,
      s.state && `state ${s.state}`,
      s.queued !== undefined && `queued ${showRange(s.queued)}`,
      s.delivered !== undefined && `delivered ${showRange(s.delivered)}`,
      s.dropped !== undefined && `dropped ${showRange(s.dropped)}`,
      ...Object.entries(s.droppedBy ?? {}).map(([k, r]) => `dropped ${k} ${showRange(r)}`),
      s.errors !== undefined && `failed calls ${showRange(s.errors)}`,
      s.ledger && 'created = delivered + queued + dropped(reason)',
    ].filter(Boolean).join(', ')}`,
  async run(step, lab) {
    const agents = lab.select(step.agents);
    const expected: string[] = [];
    const actual: string[] = [];
    const problems: string[] = [];
    const drops: string[] = [];
    for (const a of agents) {
      const st = a.handle.status();
      const records = a.handle.records();
      const byReason = droppedByReason(records);
      const checks: [string, boolean, string, string][] = [];
      if (step.onboarded !== undefined) checks.push(['onboarded', st.onboarded === step.onboarded, String(step.onboarded), String(st.onboarded)]);
      if (step.state) checks.push(['state', st.state === step.state, step.state, st.state]);
      for (const k of ['queued', 'delivered', 'dropped', 'errors'] as const) {
        const r = step[k];
        if (r !== undefined) checks.push([k === 'errors' ? 'failed calls' : k, inRange(st[k], r), showRange(r), String(st[k])]);
      }
      for (const [reason, r] of Object.entries(step.droppedBy ?? {})) {
        const n = byReason.get(reason)?.length ?? 0;
        checks.push([`dropped ${reason}`, inRange(n, r), showRange(r), String(n)]);
      }
      for (const [k, ok, want, got] of checks) {
        expected.push(`${a.name} ${k} ${want}`);
        actual.push(`${a.name} ${k} ${got}`);
        if (!ok) problems.push(`${a.name} ${k} is ${got}, expected ${want}`);
      }
      if (step.ledger) problems.push(...ledgerProblems(lab, a, records));
      drops.push(...describeDrops(a, byReason));
      if (st.lastError) actual.push(`${a.name} last error: ${st.lastError}`);
    }
    const summary = agents.map((a) => {
      const st = a.handle.status();
      return `${a.name} queued ${st.queued}, delivered ${st.delivered}, dropped ${st.dropped}`;
    }).join('; ');
    // Which records were dropped and why belongs on the timeline line itself, pass or fail.
    const line = drops.length ? `${summary} — ${drops.join('; ')}` : summary;
    return problems.length ? failed(line, { details: problems, expected, actual }) : passed(line);
  },
};
