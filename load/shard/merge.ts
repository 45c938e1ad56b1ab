import { InputError } from '../../lib/errors.js';
import type { GatewayCounterValues, RecordsCheck, TruthValues } from '../accuracy.js';
import { COUNTER_PAIRS } from '../accuracy.js';
import type { LoadReport } from '../report/types.js';

/** One shard's result as `omsgw load --json` wrote it, and where it came from (a file or the lab API). */
export interface ShardInput {
  source: string;
  report: unknown;
}

export interface MergedRow {
  counter: string;
  truthName: string;
  gateway: number | null;
  truth: number;
  ok: boolean | null;
}

export interface MergedReport {
  version: 1;
  runId: string;
  seed: string;
  shards: number;
  sources: string[];
  agents: number;
  agentCycles: number;
  /** Summed over the shards. */
  records: Omit<RecordsCheck, 'ok'> & { ok: boolean };
  /** Each shard's truth at its final quiescent point, summed. */
  truth: TruthValues;
  gateway: GatewayCounterValues | null;
  rows: MergedRow[];
  shardsFailed: Array<{ shard: number; verdict: string[] }>;
  simulatorCpuMs: number;
  ok: boolean;
  verdict: string[];
  notChecked: string[];
}

type ShardReport = LoadReport & { shard: NonNullable<LoadReport['shard']> };

/** The shard results as reports of one run, or an InputError (exit 2) saying what to fix. */
export function checkShards(inputs: ShardInput[], expectedShards?: number, expectedRunId?: string): ShardReport[] {
  if (inputs.length === 0) throw new InputError(expectedRunId ? `no shard results for run ${expectedRunId} yet: did the shards run with --publish and --run-id ${expectedRunId}?` : 'give the JSON results to merge (omsgw load --shard k/n --json <file>), or --from <lab API URL> --run-id <id>');
  const reports = inputs.map(({ source, report }) => {
    const r = report as Partial<LoadReport> | null;
    if (!r || typeof r !== 'object' || r.version !== 1 || !Array.isArray(r.timeline)) throw new InputError(`${source} is not an omsgw load --json result`);
    if (!r.shard) throw new InputError(`${source} is the result of an unsharded run (no --shard k/n): only shards of one run can be merged`);
    if (r.profile !== 'agents') throw new InputError(`${source} is a ${r.profile} run; merge joins agents-profile shards`);
    return r as ShardReport;
  });
  const first = reports[0];
  for (const [i, r] of reports.entries()) {
    const where = inputs[i].source;
    if (r.shard.runId !== first.shard.runId) throw new InputError(`results of different runs: ${inputs[0].source} is run ${first.shard.runId}, ${where} is run ${r.shard.runId}; merge the shards of one --run-id`);
    if (r.options.seed !== first.options.seed) throw new InputError(`run ${first.shard.runId}: shards used different --seed values (${JSON.stringify(first.options.seed)} in ${inputs[0].source}, ${JSON.stringify(r.options.seed)} in ${where}); rerun them with one seed`);
    if (r.shard.count !== first.shard.count) throw new InputError(`run ${first.shard.runId}: shards disagree on the shard count (${first.shard.count} in ${inputs[0].source}, ${r.shard.count} in ${where})`);
  }
  if (expectedRunId !== undefined && first.shard.runId !== expectedRunId) throw new InputError(`the results are of run ${first.shard.runId}, not --run-id ${expectedRunId}`);
  const n = first.shard.count;
  if (expectedShards !== undefined && expectedShards !== n) throw new InputError(`--shards ${expectedShards} but the shards of run ${first.shard.runId} were started as k/${n}`);
  const seen = new Map<number, string>();
  for (const [i, r] of reports.entries()) {
    const other = seen.get(r.shard.index);
    if (other) throw new InputError(`shard ${r.shard.index}/${n} of run ${first.shard.runId} is given twice (${other} and ${inputs[i].source}); give each shard once`);
    seen.set(r.shard.index, inputs[i].source);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !seen.has(k));
  if (missing.length) throw new InputError(`run ${first.shard.runId}: missing shard(s) ${missing.join(', ')} of ${n}; wait for them to finish (or rerun them) before merging`);
  return reports.sort((a, b) => a.shard.index - b.shard.index);
}

/** A shard's truth at its last quiescent point (the 'end' point, after its agents closed). */
function finalTruth(r: ShardReport): TruthValues {
  const q = r.timeline.filter((p) => p.quiescent);
  return (q[q.length - 1] ?? r.timeline[r.timeline.length - 1]).truth;
}

/**
 * One report for the whole run: records and truths summed over the shards, and the shared gateway's
 * counters (read after every shard finished) compared with those sums — each must be equal.
 */
export function mergeShards(reports: ShardReport[], sources: string[], gateway: GatewayCounterValues | null): MergedReport {
  const sum = (f: (r: ShardReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const truth: TruthValues = { openConnections: 0, distinctSources: 0, rejectionsCaused: 0, errorsCaused: 0 };
  for (const r of reports) {
    const t = finalTruth(r);
    for (const k of Object.keys(truth) as Array<keyof TruthValues>) truth[k] += t[k];
  }
  const recordsOf = (r: ShardReport) => r.records ?? r.accuracy?.records;
  const rec = (k: keyof Omit<RecordsCheck, 'ok'>) => sum((r) => recordsOf(r)?.[k] ?? 0);
  const records = { created: rec('created'), acknowledged: rec('acknowledged'), ingested: rec('ingested'), dropped: rec('dropped'), queued: rec('queued'), lost: rec('lost'), ok: false };
  records.ok = records.lost === 0 && records.dropped === 0 && records.queued === 0 && records.ingested === records.created && reports.every((r) => recordsOf(r)?.ok === true);
  const rows: MergedRow[] = COUNTER_PAIRS.map(({ counter, truth: t, name, truthName }) => ({
    counter: name,
    truthName: `${truthName}, summed over ${reports.length} shards`,
    gateway: gateway ? gateway[counter] : null,
    truth: truth[t],
    ok: gateway ? gateway[counter] === truth[t] : null,
  }));
  const shardsFailed = reports.filter((r) => !r.ok).map((r) => ({ shard: r.shard.index, verdict: r.verdict }));
  const verdict: string[] = [];
  if (!records.ok) verdict.push(`records: ${records.lost} lost, ${records.dropped} dropped, ${records.queued} still queued (created ${records.created}, ingested ${records.ingested})`);
  for (const row of rows) if (row.ok === false) verdict.push(`${row.counter}: gateway ${row.gateway}, ${row.truthName} ${row.truth}`);
  for (const f of shardsFailed) verdict.push(`shard ${f.shard} failed: ${f.verdict.join('; ')}`);
  const notChecked = gateway ? [] : ['counters not compared: no --admin <gateway management API URL>'];
  const first = reports[0];
  return {
    version: 1,
    runId: first.shard.runId,
    seed: first.options.seed,
    shards: first.shard.count,
    sources,
    agents: sum((r) => r.agents?.count ?? 0),
    agentCycles: sum((r) => r.throughput.requests),
    records,
    truth,
    gateway,
    rows,
    shardsFailed,
    simulatorCpuMs: sum((r) => r.agents?.cpu?.simulatorCpuMs ?? 0),
    ok: verdict.length === 0,
    verdict,
    notChecked,
  };
}

export function formatMerged(m: MergedReport): string {
  const out: string[] = [];
  out.push(`omsgw load merge — run ${m.runId}, ${m.shards} shards (seed ${m.seed}): ${m.agents} agents, ${m.agentCycles} agent cycles, simulator CPU ${(m.simulatorCpuMs / 1000).toFixed(1)} s`);
  const r = m.records;
  out.push(`records: created ${r.created}, acknowledged ${r.acknowledged}, ingested ${r.ingested}, dropped ${r.dropped}, queued ${r.queued}, lost ${r.lost} ${r.ok ? 'ok' : 'LOST'}`);
  out.push('counter accuracy (the gateway now, against the shards\' final truths summed):');
  for (const row of m.rows) out.push(`  ${row.counter.padEnd(24)} gateway ${String(row.gateway ?? '-').padStart(7)}  truth ${String(row.truth).padStart(7)}  ${row.ok === null ? 'not compared' : row.ok ? 'ok' : 'DEVIATES'}`);
  for (const n of m.notChecked) out.push(`not checked: ${n}`);
  out.push(m.ok ? `RESULT: ok — nothing lost, ${m.gateway ? 'counters equal the summed truths' : 'counters not compared'}` : `RESULT: FAILED — ${m.verdict.join('; ')}`);
  return out.join('\n');
}
