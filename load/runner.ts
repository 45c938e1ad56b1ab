import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../lib/clock.js';
import { summarize } from '../harness/driver/stats.js';
import type { DriverResult, Endpoint } from '../harness/driver/types.js';
import type { SpawnedDriver } from '../harness/driver/spawn.js';
import { compareCounters, type RecordsCheck } from './accuracy.js';
import { validateLoadOptions, type LoadOptions } from './options.js';
import { runAgentsProfile, type AgentsOutcome } from './profiles/agents.js';
import { runTunnelProfile } from './profiles/tunnels.js';
import { ProbePacer } from './probes.js';
import type { LoadReport } from './report/types.js';
import { LoadSampler } from './sampler.js';
import { startTargets, type LoadTargets } from './targets.js';
import { judgeLoad } from './verdict.js';

export { PROFILES, validateLoadOptions, type LoadOptions, type LoadProfile } from './options.js';
export { DEAD_HOST, FORBIDDEN_HOST } from './probes.js';
export { DRIVER_HOST } from './targets.js';
export type { LoadReport, TimelinePoint } from './report/types.js';

export const LATENCY_MEASURES = {
  agents: 'one agent cycle: collect, CONNECT + TLS, upload, acknowledgement',
  idle: 'tunnel setup: TCP, CONNECT, TLS handshake',
  churn: 'one request through the tunnel, including CONNECT + TLS',
  keepalive: 'one request through the tunnel',
} as const;

/**
 * Drives one load run end to end — targets (startTargets), probes at their rates (ProbePacer), the
 * profile's load (runAgentsProfile / runTunnelProfile), timeline points (LoadSampler), the verdict
 * (judgeLoad) — and returns its report. Never throws for load-side failures; they are in the report.
 */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  validateLoadOptions(o);
  const clock = o.clock ?? systemClock;
  const log = o.onProgress ?? (() => undefined);
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'omsgw-load-'));
  let targets: LoadTargets | undefined;
  let probes: ProbePacer | undefined;
  let driver: SpawnedDriver | undefined;
  let agents: AgentsOutcome | undefined;
  let progress: ReturnType<typeof clock.setInterval> | undefined;
  let sampler!: LoadSampler;
  let records: RecordsCheck | undefined;
  let driverResult: DriverResult | undefined;
  let httpRefusals: LoadReport['httpRefusals'];
  let agentsInfo: LoadReport['agents'];
  let loadMs = 0;
  // The clock's timers do not hold the process open; with a shared cloud (--cloud) and an external
  // gateway nothing else in this process may, and a sleeping round would let it exit mid-run.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    targets = await startTargets(o, workDir, log);
    ({ probes, sampler } = await startInstruments(o, targets, started, clock, log));
    // --duration counts from when the load itself starts (after the fleet is prepared or as the
    // driver is spawned): setup time does not use it up.
    let loadStart = 0;
    const beginLoad = (): number => {
      loadStart = Date.now();
      probes!.start(o.durationMs);
      progress = clock.setInterval(() => void sampler.point(false), 1000);
      return loadStart + o.durationMs;
    };
    if (o.profile === 'agents') {
      agents = await runAgentsProfile(o, targets, sampler, probes, beginLoad, clock);
      records = agents.records;
      agentsInfo = agents.agents;
    } else {
      beginLoad();
      driverResult = await runTunnelProfile(o, targets, sampler, probes, (d) => (driver = d));
    }
    loadMs = Date.now() - loadStart;
    if (progress) clock.clearInterval(progress);
    progress = undefined;
    await probes.finish();
    if (o.httpRefusals) httpRefusals = await runHttpRefusals(o.httpRefusals, targets, sampler, probes, log);
    await agents?.close();
    agents = undefined;
    await sampler.point(true, 'end');
    o.coordinator?.end(sampler.sources);
  } finally {
    clearInterval(keepAlive);
    if (progress) clock.clearInterval(progress);
    probes?.close();
    sampler?.close();
    driver?.kill();
    await agents?.close().catch(() => undefined);
    await targets?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  return buildReport(o, { started, targets: targets!, sampler, probes: probes!, records, driverResult, httpRefusals, loadMs, agents: agentsInfo });
}

/**
 * What measures a load run besides its load: the probes at their rates (not started yet) and the
 * sampler of the gateway's counters against the truth, with its first point taken.
 */
export async function startInstruments(o: LoadOptions, targets: LoadTargets, started: number, clock: Clock, log: (line: string) => void): Promise<{ probes: ProbePacer; sampler: LoadSampler }> {
  const probes = new ProbePacer({ proxy: targets.proxy, forbiddenRate: o.forbiddenRate, errorRate: o.errorRate, clock });
  const sampler = new LoadSampler({ started, proxy: targets.proxy, adminUrl: targets.adminUrl, settleMs: o.settleMs ?? 3000, probes, log, agentCount: o.count });
  try {
    await sampler.point(true, 'start');
  } catch (err) {
    sampler.close();
    throw err;
  }
  return { probes, sampler };
}

interface RunResults {
  started: number;
  targets: LoadTargets;
  sampler: LoadSampler;
  probes: ProbePacer;
  records?: RecordsCheck;
  driverResult?: DriverResult;
  httpRefusals?: LoadReport['httpRefusals'];
  loadMs: number;
  agents?: LoadReport['agents'];
}

function buildReport(o: LoadOptions, r: RunResults): LoadReport {
  const { sampler, probes, driverResult } = r;
  const accuracy = sampler.accuracySamples.length ? compareCounters(sampler.accuracySamples, r.records) : null;
  // idle holds tunnels without requests: what it times is their setup.
  const latency = driverResult ? (o.profile === 'idle' ? driverResult.setupLatency : driverResult.latency) : summarize(sampler.latency);
  const countersElsewhere = o.shard ? `counters not compared by this shard (${o.shard.index}/${o.shard.count} of run ${o.shard.runId}): omsgw load merge --admin compares the shared gateway's counters with every shard's truth` : undefined;
  const verdict = judgeLoad({ records: r.records, accuracy, errorsByKind: sampler.errorsByKind, probes: probes.tally, latency, countersReadable: r.targets.adminUrl !== undefined, countersElsewhere });
  const { clock: _c, onProgress: _p, remote: _r, coordinator: _k, ...options } = o;
  const { samples: _s, ...driverRest } = driverResult ?? ({ samples: [] } as unknown as DriverResult);
  const requests = sampler.requests;
  return {
    version: 1,
    profile: o.profile,
    startedAt: new Date(r.started).toISOString(),
    durationMs: Date.now() - r.started,
    options,
    ...(o.shard ? { shard: o.shard } : {}),
    gateway: { kind: r.targets.kind, proxy: r.targets.proxy, adminUrl: r.targets.adminUrl },
    throughput: {
      requests,
      loadMs: r.loadMs,
      requestsPerSec: driverResult ? driverResult.requestsPerSec : Math.round((requests / Math.max(1, r.loadMs)) * 1000 * 10) / 10,
      ...(r.records ? { recordsIngested: r.records.ingested } : {}),
      ...(driverResult ? { mbPerSec: driverResult.mbPerSec } : {}),
    },
    latency,
    latencyUnit: 'µs',
    latencyMeasures: LATENCY_MEASURES[o.profile],
    errorsByKind: sampler.errorsByKind,
    unexpectedErrors: verdict.unexpectedErrors,
    probes: probes.tally,
    httpRefusals: r.httpRefusals,
    agents: r.agents,
    driver: driverResult ? (driverRest as Omit<DriverResult, 'samples'>) : undefined,
    records: r.records,
    timeline: sampler.timeline,
    accuracy,
    checks: verdict.checks,
    ok: verdict.ok,
    verdict: verdict.verdict,
    notChecked: verdict.notChecked,
  };
}

/**
 * The end-of-run plain-HTTP refusals, after a quiescent point: their source address joins the truth,
 * and any answer but 405 (or a socket error) is counted as unexpected.
 */
export async function runHttpRefusals(amount: number, targets: LoadTargets, sampler: LoadSampler, probes: ProbePacer, log: (line: string) => void): Promise<NonNullable<LoadReport['httpRefusals']>> {
  await sampler.point(true, 'before plain-HTTP refusals');
  const refusals = await plainHttpRefusals(targets.proxy, amount);
  // autocannon connects from the default source address.
  if (refusals.responses > 0) sampler.sources.add('127.0.0.1');
  for (const [status, n] of Object.entries(refusals.byStatus)) if (status !== '405') probes.tally.unexpected[`http_refusal_${status}`] = n;
  if (refusals.errors) probes.tally.unexpected['http_refusal_socket_errors'] = refusals.errors;
  log(`plain-HTTP refusals (autocannon): ${refusals.responses} answered, by status ${JSON.stringify(refusals.byStatus)}, ${refusals.reqPerSec} req/s`);
  return refusals;
}

/** autocannon against the proxy port with plain GETs: a CONNECT-only gateway refuses each (405). */
async function plainHttpRefusals(proxy: Endpoint, amount: number): Promise<NonNullable<LoadReport['httpRefusals']>> {
  const result = await autocannon({ url: `http://${proxy.host}:${proxy.port}/`, amount, connections: Math.min(10, amount), timeout: 10 });
  const byStatus: Record<string, number> = {};
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, v] of Object.entries(stats)) byStatus[code] = v.count;
  return { writes: result.requests.sent, responses: result.requests.total, byStatus, errors: result.errors + result.timeouts, reqPerSec: Math.round(result.requests.average) };
}
