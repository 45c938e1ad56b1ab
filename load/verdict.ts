import type { LatencySummary } from '../harness/driver/types.js';
import type { AccuracyReport, RecordsCheck } from './accuracy.js';
import type { ProbeTally } from './probes.js';
import type { VerdictCheck } from './report/types.js';

/** Driver errors the run causes on purpose (a forbidden target in the driver's own CONNECTs). */
const EXPECTED_ERRORS = new Set(['driver_connect_403']);

export interface Verdict {
  checks: VerdictCheck[];
  ok: boolean;
  verdict: string[];
  notChecked: string[];
  unexpectedErrors: number;
}

/**
 * Judges what the run measured, and only that: records (agents profile), unexpected errors,
 * latency (some request completed), and counters when a management API was read. Without one the
 * counters are listed as not checked and cannot fail the run: an external gateway without --admin
 * passes when everything measured held.
 */
export function judgeLoad(m: { records?: RecordsCheck; accuracy: AccuracyReport | null; errorsByKind: Record<string, number>; probes: ProbeTally; latency: LatencySummary; countersReadable: boolean; countersElsewhere?: string }): Verdict {
  const checks: VerdictCheck[] = [];
  if (m.records) {
    const r = m.records;
    checks.push({
      what: 'records',
      ok: r.ok,
      detail: r.ok
        ? `nothing lost: ${r.created} created, ${r.ingested} ingested`
        : `${r.lost} record(s) lost (created ${r.created}, ingested ${r.ingested}, dropped ${r.dropped}, queued ${r.queued})`,
    });
  }
  const unexpected = { ...Object.fromEntries(Object.entries(m.errorsByKind).filter(([k]) => !EXPECTED_ERRORS.has(k))), ...m.probes.unexpected };
  const unexpectedErrors = Object.values(unexpected).reduce((a, b) => a + b, 0);
  checks.push({ what: 'unexpected errors', ok: unexpectedErrors === 0, detail: unexpectedErrors === 0 ? 'no unexpected errors' : `${unexpectedErrors} unexpected error(s): ${JSON.stringify(unexpected)}` });
  checks.push({
    what: 'latency',
    ok: m.latency.count > 0,
    detail: m.latency.count > 0 ? `latency measured over ${m.latency.count} requests` : 'no request completed, so no latency was measured',
  });
  const notChecked: string[] = [];
  if (m.accuracy) {
    const counterProblems = m.accuracy.problems.filter((p) => !/record\(s\) lost/.test(p));
    checks.push({ what: 'counters', ok: counterProblems.length === 0, detail: counterProblems.length ? counterProblems.join('; ') : 'counters exact at every quiescent point' });
  } else if (m.countersElsewhere) {
    notChecked.push(m.countersElsewhere);
  } else if (!m.countersReadable) {
    notChecked.push('counters not compared: no management API (--admin) for this gateway');
  } else {
    checks.push({ what: 'counters', ok: false, detail: 'the management API was given but no counters could be read' });
  }
  const failed = checks.filter((c) => !c.ok);
  return { checks, ok: failed.length === 0, verdict: failed.map((c) => c.detail), notChecked, unexpectedErrors };
}
