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

export interface Accounting {
  created: number;
  /** Created and ingested by the cloud (exactly once unless `duplicated` says otherwise). */
  ingested: number;
  duplicated: number;
  /**
   * Duplicates no agent resend explains: a record can only reach the cloud twice if its agent sent it
   * twice, which it does only after an attempt failed (e.g. the gateway was killed after the cloud
   * took the batch but before the answer got back). Any duplicate beyond an agent's resent records
   * is a real fault (a gateway or cloud replaying data).
   */
  unexplainedDuplicates: { agent: string; duplicated: number; resent: number }[];
  /** Not ingested yet, still queued at its agent, which knows why (its last error). */
  queuedWithReason: { agent: string; records: number; reason: string }[];
  /** Not ingested, and not queued with a reason: dropped, acknowledged but missing, or queued without any failure recorded. */
  unaccounted: { agent: string; records: number; why: string }[];
}

/**
 * "Nothing lost" when not everything could be delivered yet: every record the agents created is in
 * the cloud exactly once, or still queued at its agent with the reason its upload failed.
 */
export function accountFor(lab: Lab): Accounting {
  const ingested = lab.cloud?.ingested() ?? [];
  const out: Accounting = { created: 0, ingested: 0, duplicated: 0, unexplainedDuplicates: [], queuedWithReason: [], unaccounted: [] };
  for (const a of lab.agents) {
    const mine = ingested.filter((r) => r.agentId === a.handle.id);
    const inCloud = new Set(mine.flatMap((r) => r.recordIds));
    const duplicated = mine.reduce((n, r) => n + r.duplicates, 0);
    out.duplicated += duplicated;
    const records = a.handle.records();
    const resent = records.filter((r) => inCloud.has(r.id) && r.attempts > 1).length;
    if (duplicated > resent) out.unexplainedDuplicates.push({ agent: a.name, duplicated, resent });
    const reason = a.handle.status().lastError;
    const notIngested = new Map<string, number>();
    for (const r of records) {
      out.created++;
      if (inCloud.has(r.id)) out.ingested++;
      else notIngested.set(r.state, (notIngested.get(r.state) ?? 0) + 1);
    }
    const waiting = (notIngested.get('queued') ?? 0) + (notIngested.get('sent') ?? 0);
    if (waiting > 0) {
      if (reason) out.queuedWithReason.push({ agent: a.name, records: waiting, reason });
      else out.unaccounted.push({ agent: a.name, records: waiting, why: 'queued, but the agent recorded no failure' });
    }
    if (notIngested.get('acknowledged')) out.unaccounted.push({ agent: a.name, records: notIngested.get('acknowledged')!, why: 'acknowledged by the cloud but not in its ledger' });
    if (notIngested.get('dropped')) out.unaccounted.push({ agent: a.name, records: notIngested.get('dropped')!, why: 'dropped by the agent' });
  }
  return out;
}

export const expectLedger: StepImpl<ExpectLedgerStep> = {
  explain: (s) => [
    s.createdEqualsIngested && 'every created record ingested exactly once',
    s.ingestedOnceOrQueued && `every created record ingested exactly once or still queued with a reason${s.allowResentDuplicates ? ' (a duplicate only where its agent resent it after a lost answer)' : ''}`,
    ...(s.records ?? []).map((r) => `${r.agents ?? 'all'}${r.dataType ? ` ${r.dataType}` : ''} records ${showRange(r.count)}`)].filter(Boolean).join('; '),
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
      if (step.ingestedOnceOrQueued) {
        const acc = accountFor(lab);
        const queued = acc.queuedWithReason.reduce((n, q) => n + q.records, 0);
        const lost = acc.unaccounted.reduce((n, u) => n + u.records, 0);
        expected.push(`created = ingested once + queued with a reason, ${step.allowResentDuplicates ? 'duplicates only from resends' : '0 duplicated'}, 0 unaccounted`);
        actual.push(`created ${acc.created}, ingested ${acc.ingested}, queued with a reason ${queued}, duplicated ${acc.duplicated}, unaccounted ${lost}`);
        for (const q of acc.queuedWithReason) actual.push(`${q.agent}: ${q.records} queued (${q.reason})`);
        for (const u of acc.unaccounted) problems.push(`${u.agent}: ${u.records} record(s) ${u.why}`);
        if (acc.created === 0) problems.push('no records were created at all');
        if (!step.allowResentDuplicates && acc.duplicated > 0) problems.push(`${acc.duplicated} record(s) ingested more than once`);
        for (const d of acc.unexplainedDuplicates) problems.push(`${d.agent}: ${d.duplicated} record(s) ingested more than once, but it resent only ${d.resent}`);
      }
      const ingested = lab.cloud!.ingested();
      for (const r of step.records ?? []) {
        const ids = new Set(lab.select(r.agents).map((a) => a.handle.id));
        // Distinct records: a record the cloud took twice (a retry after a lost answer) is one record.
        const n = ingested.filter((x) => ids.has(x.agentId) && (!r.dataType || x.dataType === r.dataType)).reduce((s, x) => s + x.recordIds.length, 0);
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
