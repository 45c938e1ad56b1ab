/**
 * Counter accuracy: the gateway's counters next to the harness's ground truth.
 * Pure functions over samples, so the verdict logic is unit-tested with synthetic data.
 */

/** The four "OMS Gateway" counters as /api/counters names them. */
export interface GatewayCounterValues {
  activeClientConnections: number;
  connectedClients: number;
  rejectionCount: number;
  errorCount: number;
}

export interface TruthValues {
  /** Client TCP connections to the proxy open right now (kernel view of the harness's sockets). */
  openConnections: number;
  /** Distinct source addresses the harness has connected from so far. */
  distinctSources: number;
  /** Rejections the harness caused on purpose (forbidden targets) so far. */
  rejectionsCaused: number;
  /** Errors the harness caused on purpose (unreachable upstream) so far. */
  errorsCaused: number;
}

export interface AccuracySample {
  /** ms since the run started */
  t: number;
  /** A point where nothing is in flight: counters must equal the truth exactly. */
  quiescent: boolean;
  label?: string;
  gateway: GatewayCounterValues;
  truth: TruthValues;
}

export const COUNTER_PAIRS: Array<{ counter: keyof GatewayCounterValues; truth: keyof TruthValues; name: string; truthName: string }> = [
  { counter: 'activeClientConnections', truth: 'openConnections', name: 'Active Client Connection', truthName: 'harness open connections' },
  { counter: 'connectedClients', truth: 'distinctSources', name: 'Connected Client', truthName: 'distinct source addresses' },
  { counter: 'rejectionCount', truth: 'rejectionsCaused', name: 'Rejection Count', truthName: 'rejections caused' },
  { counter: 'errorCount', truth: 'errorsCaused', name: 'Error Count', truthName: 'errors caused' },
];

export interface Deviation {
  t: number;
  label?: string;
  counter: string;
  gateway: number;
  truth: number;
}

export interface AccuracyRow {
  counter: string;
  truthName: string;
  /** Values at the last quiescent point. */
  gateway: number | null;
  truth: number | null;
  quiescentPoints: number;
  /** Quiescent points where the counter differed from the truth. */
  quiescentDeviations: number;
  /** Largest |counter - truth| over all samples, quiescent or not (informational: in-flight changes race the sampling). */
  maxAbsDeviationAnySample: number;
  ok: boolean;
}

export interface RecordsCheck {
  created: number;
  acknowledged: number;
  ingested: number;
  dropped: number;
  queued: number;
  /** Created records that never reached the cloud and are not accounted for as still queued. */
  lost: number;
  ok: boolean;
}

export interface AccuracyReport {
  rows: AccuracyRow[];
  deviations: Deviation[];
  records?: RecordsCheck;
  ok: boolean;
  /** Why the verdict is what it is, in words. */
  problems: string[];
}

/** Compares every counter with its truth; deviations at quiescent points fail the run. */
export function compareCounters(samples: AccuracySample[], records?: RecordsCheck): AccuracyReport {
  const deviations: Deviation[] = [];
  const problems: string[] = [];
  const rows: AccuracyRow[] = COUNTER_PAIRS.map(({ counter, truth, name, truthName }) => {
    let maxAbs = 0;
    let points = 0;
    let bad = 0;
    let last: AccuracySample | undefined;
    for (const s of samples) {
      const diff = s.gateway[counter] - s.truth[truth];
      maxAbs = Math.max(maxAbs, Math.abs(diff));
      if (!s.quiescent) continue;
      points++;
      last = s;
      if (diff !== 0) {
        bad++;
        deviations.push({ t: s.t, label: s.label, counter: name, gateway: s.gateway[counter], truth: s.truth[truth] });
      }
    }
    if (bad > 0) problems.push(`${name} differed from ${truthName} at ${bad} of ${points} quiescent points`);
    return {
      counter: name,
      truthName,
      gateway: last ? last.gateway[counter] : null,
      truth: last ? last.truth[truth] : null,
      quiescentPoints: points,
      quiescentDeviations: bad,
      maxAbsDeviationAnySample: maxAbs,
      ok: bad === 0,
    };
  });
  if (!samples.some((s) => s.quiescent)) problems.push('no quiescent point was reached, so no counter could be checked');
  if (records && !records.ok) problems.push(`${records.lost} record(s) lost (created ${records.created}, ingested ${records.ingested}, dropped ${records.dropped}, queued ${records.queued})`);
  return { rows, deviations, records, ok: problems.length === 0, problems };
}

/**
 * Records from creation to ingestion, from the harness's one accounting (lib/records): every created
 * record must have been ingested by the cloud (distinct record ids). A load run allows nothing
 * dropped and nothing still queued at the end; `unaccounted` (the accounting's lost records:
 * acknowledged but missing, dropped, queued without a reason) counts as lost too.
 */
export function checkRecords(r: { created: number; acknowledged: number; ingested: number; dropped: number; queued: number; unaccounted?: number }): RecordsCheck {
  const { unaccounted = 0, ...counts } = r;
  const lost = Math.max(unaccounted, r.created - r.ingested - r.queued, 0);
  return { ...counts, lost, ok: lost === 0 && r.dropped === 0 && r.queued === 0 && r.acknowledged <= r.ingested };
}
