import type { ExpectLedgerStep } from '../definitions.js';
import type { Lab } from '../lab.js';
import { durationMs } from '../duration.js';
import { failed, passed, pollUntil, type StepImpl } from '../step-types.js';
import { inRange, showRange } from './counters.js';

export interface LossReport {
  created: number;
  ingested: number;
  /** Created by an agent, never ingested. */
  missing: number;
  /** Ingested more than once. */
  duplicated: number;
  perAgent: { agent: string; created: number; ingested: number; missing: number }[];
}

/** Compares every record id the agents created with what the cloud ingested. */
export function lossReport(lab: Lab): LossReport {
  const ingested = lab.cloud?.ingested() ?? [];
  const report: LossReport = { created: 0, ingested: 0, missing: 0, duplicated: 0, perAgent: [] };
  for (const a of lab.agents) {
    const created = new Set(a.handle.createdRecordIds());
    const mine = ingested.filter((r) => r.agentId === a.handle.id);
    const gotSet = new Set(mine.flatMap((r) => r.recordIds));
    const duplicated = mine.reduce((n, r) => n + r.duplicates, 0);
    const missing = [...created].filter((id) => !gotSet.has(id)).length;
    report.created += created.size;
    report.ingested += gotSet.size;
    report.missing += missing;
    report.duplicated += duplicated;
    report.perAgent.push({ agent: a.name, created: created.size, ingested: gotSet.size, missing });
  }
  return report;
}

export const expectLedger: StepImpl<ExpectLedgerStep> = {
  explain: (s) => [s.createdEqualsIngested && 'every created record ingested exactly once', ...(s.records ?? []).map((r) => `${r.agents ?? 'all'}${r.dataType ? ` ${r.dataType}` : ''} records ${showRange(r.count)}`)].filter(Boolean).join('; '),
  async run(step, lab) {
    if (!lab.cloud) throw new Error('the cloud is not running (cloud.start)');
    const result = await pollUntil(step.within ? durationMs(step.within) : 0, () => {
      const loss = lossReport(lab);
      const problems: string[] = [];
      const expected: string[] = [];
      const actual: string[] = [];
      if (step.createdEqualsIngested) {
        expected.push('created = ingested, 0 missing, 0 duplicated');
        actual.push(`created ${loss.created}, ingested ${loss.ingested}, missing ${loss.missing}, duplicated ${loss.duplicated}`);
        if (loss.created === 0) problems.push('no records were created at all');
        if (loss.missing > 0 || loss.duplicated > 0 || loss.created !== loss.ingested) problems.push('records lost or duplicated');
      }
      const ingested = lab.cloud!.ingested();
      for (const r of step.records ?? []) {
        const ids = new Set(lab.select(r.agents).map((a) => a.handle.id));
        const n = ingested.filter((x) => ids.has(x.agentId) && (!r.dataType || x.dataType === r.dataType)).reduce((s, x) => s + x.records, 0);
        const label = `${r.agents ?? 'all'}${r.dataType ? ` ${r.dataType}` : ''}`;
        expected.push(`${label} ${showRange(r.count)}`);
        actual.push(`${label} = ${n}`);
        if (!inRange(n, r.count)) problems.push(`${label}: ${n} records`);
      }
      return { done: problems.length === 0, problems, expected, actual, loss };
    }, 50);
    const summary = result.actual.join('; ');
    if (!result.done) return failed(summary, { details: [...result.problems, ...result.loss.perAgent.map((p) => `${p.agent}: created ${p.created}, ingested ${p.ingested}, missing ${p.missing}`)], expected: result.expected, actual: result.actual });
    return passed(summary);
  },
};
