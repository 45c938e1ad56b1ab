import type { ExpectLedgerStep } from '../definitions.js';
import type { Lab } from '../lab.js';
import { durationMs } from '../duration.js';
import { failed, passed, pollUntil, type StepImpl } from '../step-types.js';
import { inRange, showRange } from './counters.js';
import { accountDelivery, type DeliveryAccount } from '../../../lib/records/index.js';

export interface LossReport {
  created: number;
  ingested: number;
  /** Created by an agent, never ingested. */
  missing: number;
  /** Ingested more than once. */
  duplicated: number;
  perAgent: { agent: string; created: number; ingested: number; missing: number }[];
}

/** The harness's one accounting (lib/records) over the lab's agents and what the cloud ingested. */
function account(lab: Lab): DeliveryAccount {
  return accountDelivery(
    lab.agents.map((a) => ({ agent: a.name, agentId: a.handle.id, records: a.handle.records(), lastError: a.handle.status().lastError })),
    lab.cloud?.ingested() ?? [],
  );
}

/** Compares every record id the agents created with what the cloud ingested. */
export function lossReport(lab: Lab): LossReport {
  const acc = account(lab);
  const missing = acc.perAgent.reduce((n, a) => n + a.missing, 0);
  return {
    created: acc.created,
    ingested: acc.perAgent.reduce((n, a) => n + a.ingested, 0),
    missing,
    duplicated: acc.perAgent.reduce((n, a) => n + a.duplicated, 0),
    perAgent: acc.perAgent.map((a) => ({ agent: a.agent, created: a.created, ingested: a.ingested, missing: a.missing })),
  };
}

export type Accounting = Pick<DeliveryAccount, 'created' | 'ingested' | 'duplicates' | 'unexplainedDuplicates' | 'queuedWithReason' | 'unaccounted'>;

/**
 * "Nothing lost" when not everything could be delivered yet: every record the agents created is in
 * the cloud exactly once (or more only where its agent resent it), or still queued at its agent
 * with the reason its upload failed.
 */
export function accountFor(lab: Lab): Accounting {
  return account(lab);
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
        actual.push(`created ${acc.created}, ingested ${acc.ingested}, queued with a reason ${queued}, duplicated ${acc.duplicates}, unaccounted ${lost}`);
        for (const q of acc.queuedWithReason) actual.push(`${q.agent}: ${q.records} queued (${q.reason})`);
        for (const u of acc.unaccounted) problems.push(`${u.agent}: ${u.records} record(s) ${u.why}`);
        if (acc.created === 0) problems.push('no records were created at all');
        if (!step.allowResentDuplicates && acc.duplicates > 0) problems.push(`${acc.duplicates} record(s) ingested more than once`);
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
