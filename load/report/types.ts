import type { DriverResult, Endpoint, LatencySummary } from '../../harness/driver/types.js';
import type { AccuracyReport, GatewayCounterValues, RecordsCheck, TruthValues } from '../accuracy.js';
import type { LoadOptions, LoadProfile } from '../options.js';
import type { ProbeTally } from '../probes.js';
import type { CpuShare } from '../cpu.js';
import type { ProcessesCpu } from '../processes/cpu.js';
import type { MergedReport } from '../shard/merge.js';

export interface TimelinePoint {
  t: number;
  quiescent: boolean;
  label?: string;
  gateway?: GatewayCounterValues;
  truth: TruthValues;
  requestsPerSec: number;
  p99Us: number;
  errors: number;
  agentsUp?: number;
}

/** One measured property of the run and whether it held. */
export interface VerdictCheck {
  what: 'records' | 'unexpected errors' | 'latency' | 'counters';
  ok: boolean;
  detail: string;
}

export interface LoadReport {
  version: 1;
  profile: LoadProfile;
  startedAt: string;
  durationMs: number;
  options: Omit<LoadOptions, 'clock' | 'onProgress' | 'remote' | 'coordinator'>;
  /** Shard k of n of run runId (--shard): `omsgw load merge` joins the shards' reports. */
  shard?: { index: number; count: number; runId: string };
  gateway: { kind: 'omsgw' | 'external'; proxy: Endpoint; adminUrl?: string };
  /** loadMs: time the load itself ran (setup and the final checks excluded). */
  throughput: { requests: number; loadMs: number; requestsPerSec: number; bytesIngested?: number; recordsIngested?: number; mbPerSec?: number };
  /** Latency in microseconds (latencyUnit); percentiles never exceed max. */
  latency: LatencySummary;
  latencyUnit: 'µs';
  latencyMeasures: string;
  errorsByKind: Record<string, number>;
  /** Errors other than the ones caused on purpose. */
  unexpectedErrors: number;
  probes: ProbeTally;
  /**
   * autocannon's plain-HTTP refusal phase. `writes` is autocannon's count of requests written; as the
   * gateway closes after each refusal, autocannon loses the request it wrote on the closing connection,
   * so `responses` (answered, by status in byStatus) is the number that reached the gateway's parser.
   */
  httpRefusals?: { writes: number; responses: number; byStatus: Record<string, number>; errors: number; reqPerSec: number };
  agents?: { count: number; onboarded: number; byOs: Record<string, number>; ticks: number; overrunTicks: number; kbPerUploadMeasured: number; cpu?: CpuShare };
  driver?: Omit<DriverResult, 'samples'>;
  /**
   * --processes N: the run id its agent processes (shards k/N) used, each process's CPU and rounds and
   * who limited the load, the shards' results as the merge code joined them, and the number of
   * distinct source addresses over all processes (equal to merged.truth.distinctSources when disjoint).
   */
  processes?: { count: number; runId: string; cpu: ProcessesCpu; merged: Pick<MergedReport, 'agents' | 'agentCycles' | 'records' | 'truth' | 'shardsFailed'>; agentSources: number };
  /** Agents profile: every record from creation to ingestion (also in accuracy.records when counters were read). */
  records?: RecordsCheck;
  timeline: TimelinePoint[];
  accuracy: AccuracyReport | null;
  /** Every property measured, held or not (a run without --admin has no 'counters' check). */
  checks: VerdictCheck[];
  ok: boolean;
  /** What failed, in words ([] when ok). */
  verdict: string[];
  /** What was not checked and why (e.g. counters without a management API). */
  notChecked: string[];
}
