import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../lib/clock.js';
import { RunFailure } from '../../lib/errors.js';
import { summarize } from '../../harness/driver/stats.js';
import { compareCounters } from '../accuracy.js';
import { eventLoopCpuMs, machineBusyMs, ownCpuMs, processCpuMs } from '../cpu.js';
import { validateLoadOptions, type LoadOptions } from '../options.js';
import { ProbePacer } from '../probes.js';
import type { LoadReport } from '../report/types.js';
import { LATENCY_MEASURES, runHttpRefusals, startInstruments } from '../runner.js';
import { LoadSampler } from '../sampler.js';
import { checkShards, mergeShards } from '../shard/merge.js';
import { startTargets, type LoadTargets } from '../targets.js';
import { judgeLoad } from '../verdict.js';
import { startAgentProcesses, type AgentProcess } from './children.js';
import { judgeProcesses, processCpu, type ProcessesCpu } from './cpu.js';

const round1 = (x: number): number => Math.round(x * 10) / 10;
const taskStat = (pid: number): string => `/proc/${pid}/task/${pid}/stat`;

/** CPU so far of every process of the run: agent processes (whole and main thread), this one (the cloud), the gateway. */
function cpuNow(procs: AgentProcess[], gatewayPid: number | undefined) {
  return {
    at: performance.now(),
    agents: procs.map((p) => ({ all: processCpuMs(p.pid) ?? 0, loop: processCpuMs(p.pid, taskStat(p.pid)) })),
    cloud: { all: ownCpuMs(), loop: eventLoopCpuMs() },
    gateway: gatewayPid ? processCpuMs(gatewayPid) : undefined,
    machine: machineBusyMs(),
  };
}

/**
 * `omsgw load --processes N` (agents profile): the fake cloud in this process (with its lab API),
 * an omsgw gateway child, and N agent processes — shards k/N of this run (`omsgw load --shard k/N
 * --coordinated`) — that run their rounds in lockstep: the load window starts when every process has
 * onboarded its agents, and after every round this process waits for all of them, takes the
 * quiescent point (the gateway's counters against the truth of every process: the kernel's socket
 * table, the union of their source addresses, the probes of this process) and says whether another
 * round starts. The shards' JSON results are joined by the merge code; one report comes out.
 */
export async function runProcesses(o: LoadOptions): Promise<LoadReport> {
  validateLoadOptions(o);
  const n = o.processes!;
  const clock = o.clock ?? systemClock;
  const log = o.onProgress ?? (() => undefined);
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'omsgw-load-processes-'));
  const runId = `processes-${process.pid}-${started}`;
  const realTick = o.intervalMs / o.speed;
  let targets: LoadTargets | undefined;
  let probes: ProbePacer | undefined;
  let sampler!: LoadSampler;
  let procs: AgentProcess[] = [];
  let progress: ReturnType<typeof clock.setInterval> | undefined;
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    targets = await startTargets(o, workDir, log);
    ({ probes, sampler } = await startInstruments(o, targets, started, clock, log));
    procs = startAgentProcesses(o, n, workDir, { runId, labUrl: targets.labUrl!, workspace: targets.workspace, gateway: `${targets.proxy.host}:${targets.proxy.port}` });
    log(`${n} agent processes (pids ${procs.map((p) => p.pid).join(', ')}) with ${procs.map((p) => p.agents).join(' + ')} agents; fake cloud in this process (pid ${process.pid})`);
    const failed = Promise.race(procs.map((p) => p.exited.then(() => p)));
    const all = async <T>(step: (p: AgentProcess) => Promise<T>): Promise<T[]> => {
      try {
        return await Promise.all(procs.map(step));
      } catch (err) {
        // One process is gone: say which and what it printed (after it has exited).
        const gone = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
        throw gone ? new RunFailure(`agent process ${gone.index} (pid ${gone.pid}) ended in the middle of the run (exit ${(await gone.exited).code ?? (await gone.exited).signal}): ${gone.output().split('\n').slice(-8).join(' | ') || 'no output'}`) : err;
      }
    };
    await all((p) => p.next('ready'));
    // The probes' window starts first, so it has ended by the deadline this process waits for.
    probes.start(o.durationMs);
    const loadStart = Date.now();
    const deadline = loadStart + o.durationMs;
    const cpu0 = cpuNow(procs, targets.gatewayPid);
    const loadavgStart = round1(loadavg()[0]);
    for (const p of procs) p.send({ type: 'go' });
    progress = clock.setInterval(() => void sampler.point(false), 1000);
    const roundMs: number[][] = procs.map(() => []);
    const cycles = procs.map(() => 0);
    let rounds = 0;
    let roundsOver = 0;
    let roundStart = loadStart;
    let more = true;
    while (more) {
      rounds++;
      const msgs = await all((p) => p.next('round'));
      for (const [i, m] of msgs.entries()) {
        if (m.tick !== rounds) throw new Error(`agent process ${i + 1} reported round ${m.tick} during round ${rounds}`);
        roundMs[i].push(m.roundMs);
        cycles[i] += m.latenciesUs.length;
        for (const us of m.latenciesUs) sampler.recordLatencyUs(us);
        for (const s of m.sources) sampler.sources.add(s);
      }
      await probes.pause();
      await sampler.point(true, `tick ${rounds}`);
      probes.resume();
      // As in one process: the next round starts an interval after this one began, or at once when this one overran.
      const now = Date.now();
      if (now > roundStart + realTick) roundsOver++;
      roundStart = Math.max(now, roundStart + realTick);
      more = roundStart < deadline;
      for (const p of procs) p.send({ type: 'next', tick: rounds, more });
    }
    // The agent processes wait out the rest of --duration after their last round; so does this one (the probes' window too).
    const rest = deadline - Date.now();
    if (rest > 0) await new Promise<void>((r) => clock.setTimeout(() => r(), rest));
    const cpu1 = cpuNow(procs, targets.gatewayPid);
    const loadMs = Date.now() - loadStart;
    clock.clearInterval(progress);
    progress = undefined;
    await probes.finish();
    for (const m of await all((p) => p.next('end'))) for (const s of m.sources) sampler.sources.add(s);
    // Each process reported its agents' addresses: their union, to compare with the sum of the shards' own counts.
    const agentSources = sampler.sources.size;
    const exits = await Promise.all(procs.map((p) => p.exited));
    let httpRefusals: LoadReport['httpRefusals'];
    if (o.httpRefusals) httpRefusals = await runHttpRefusals(o.httpRefusals, targets, sampler, probes, log);
    await sampler.point(true, 'end');
    // The shards' own results, joined by the merge code (one run, every shard once, records summed).
    const missing = procs.filter((p) => !existsSync(p.jsonFile));
    if (missing.length) throw new RunFailure(`agent process(es) ${missing.map((p) => `${p.index} (exit ${exits[p.index - 1].code ?? exits[p.index - 1].signal}): ${p.output().split('\n').slice(-5).join(' | ')}`).join('; ')} wrote no result`);
    const inputs = procs.map((p) => ({ source: `agent process ${p.index}`, report: JSON.parse(readFileSync(p.jsonFile, 'utf8')) as unknown }));
    const shards = checkShards(inputs, n, runId);
    const merged = mergeShards(shards, inputs.map((i) => i.source), null);
    const wallMs = cpu1.at - cpu0.at;
    const cyclesPerSecWanted = round1((o.count * o.speed * 1000) / o.intervalMs);
    const totalCycles = cycles.reduce((a, b) => a + b, 0);
    const delta = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
    const cpu: ProcessesCpu = judgeProcesses({
      wallMs: Math.round(wallMs),
      roundMs: realTick,
      rounds,
      roundsOver,
      cyclesPerSecWanted,
      agentProcesses: procs.map((p, i) => processCpu({ name: `agents ${p.index}`, pid: p.pid, agents: p.agents, cycles: cycles[i], cpuMs: cpu1.agents[i].all - cpu0.agents[i].all, eventLoopCpuMs: delta(cpu0.agents[i].loop, cpu1.agents[i].loop), wallMs, cyclesPerSecWanted: (p.agents * o.speed * 1000) / o.intervalMs, roundMs: roundMs[i], intervalMs: realTick })),
      cloud: processCpu({ name: 'fake cloud (with the coordinator)', pid: process.pid, cycles: totalCycles, cpuMs: cpu1.cloud.all - cpu0.cloud.all, eventLoopCpuMs: delta(cpu0.cloud.loop, cpu1.cloud.loop), wallMs, cyclesPerSecWanted }),
      ...(cpu0.gateway !== undefined && cpu1.gateway !== undefined ? { gateway: processCpu({ name: 'gateway', pid: targets.gatewayPid!, cycles: totalCycles, cpuMs: cpu1.gateway - cpu0.gateway, wallMs, cyclesPerSecWanted }) } : {}),
      machine: { cpus: cpus().length, loadavg1Start: loadavgStart, loadavg1End: round1(loadavg()[0]), ...(cpu0.machine !== undefined && cpu1.machine !== undefined ? { busyCores: Math.round(((cpu1.machine - cpu0.machine) / wallMs) * 100) / 100 } : {}) },
    });
    return buildReport(o, { started, targets, sampler, probes, shards, merged, cpu, loadMs, httpRefusals, agentSources });
  } finally {
    clearInterval(keepAlive);
    if (progress) clock.clearInterval(progress);
    probes?.close();
    sampler?.close();
    await Promise.all(procs.map((p) => p.stop()));
    await targets?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function buildReport(o: LoadOptions, r: { started: number; targets: LoadTargets; sampler: LoadSampler; probes: ProbePacer; shards: ReturnType<typeof checkShards>; merged: ReturnType<typeof mergeShards>; cpu: ProcessesCpu; loadMs: number; httpRefusals?: LoadReport['httpRefusals']; agentSources: number }): LoadReport {
  const { sampler, probes, shards, merged, cpu } = r;
  const records = merged.records;
  const accuracy = sampler.accuracySamples.length ? compareCounters(sampler.accuracySamples, records) : null;
  const errorsByKind: Record<string, number> = { ...sampler.errorsByKind };
  for (const s of shards) for (const [k, v] of Object.entries(s.errorsByKind)) errorsByKind[k] = (errorsByKind[k] ?? 0) + v;
  const latency = summarize(sampler.latency);
  const verdict = judgeLoad({ records, accuracy, errorsByKind, probes: probes.tally, latency, countersReadable: r.targets.adminUrl !== undefined });
  // A shard's own checks (records, errors, latency) are in the sums above; its failure is named too.
  for (const f of merged.shardsFailed) verdict.verdict.push(`agent process ${f.shard} failed: ${f.verdict.join('; ')}`);
  // Disjoint identities: the union of the processes' source addresses is as large as the sum of their own counts.
  const disjoint = r.agentSources === merged.truth.distinctSources;
  if (!disjoint) verdict.verdict.push(`agent processes shared source addresses: ${r.agentSources} distinct in all, ${merged.truth.distinctSources} summed over the processes`);
  const ok = verdict.ok && merged.shardsFailed.length === 0 && disjoint;
  const byOs: Record<string, number> = {};
  for (const s of shards) for (const [k, v] of Object.entries(s.agents?.byOs ?? {})) byOs[k] = (byOs[k] ?? 0) + v;
  const decodedKb = shards.reduce((n, s) => n + (s.agents?.kbPerUploadMeasured ?? 0) * s.throughput.requests, 0);
  const { clock: _c, onProgress: _p, remote: _r, coordinator: _k, ...options } = o;
  return {
    version: 1,
    profile: 'agents',
    startedAt: new Date(r.started).toISOString(),
    durationMs: Date.now() - r.started,
    options,
    gateway: { kind: r.targets.kind, proxy: r.targets.proxy, adminUrl: r.targets.adminUrl },
    throughput: { requests: sampler.requests, loadMs: r.loadMs, requestsPerSec: Math.round((sampler.requests / Math.max(1, r.loadMs)) * 1000 * 10) / 10, recordsIngested: records.ingested },
    latency,
    latencyUnit: 'µs',
    latencyMeasures: LATENCY_MEASURES.agents,
    errorsByKind,
    unexpectedErrors: verdict.unexpectedErrors,
    probes: probes.tally,
    httpRefusals: r.httpRefusals,
    agents: {
      count: o.count,
      onboarded: shards.reduce((n, s) => n + (s.agents?.onboarded ?? 0), 0),
      byOs,
      ticks: cpu.rounds,
      overrunTicks: cpu.roundsOver,
      kbPerUploadMeasured: Math.round(decodedKb / Math.max(1, merged.agentCycles)),
      cpu: {
        wallMs: cpu.wallMs,
        simulatorCpuMs: cpu.simulatorCpuMs,
        simulatorShare: cpu.simulatorShare,
        cyclesPerCpuSecond: Math.round((sampler.requests / Math.max(1e-9, cpu.simulatorCpuMs / 1000)) * 10) / 10,
        cpuMsPerCycle: sampler.requests ? Math.round((cpu.simulatorCpuMs / sampler.requests) * 100) / 100 : 0,
        ...(cpu.gateway ? { gatewayCpuMs: cpu.gateway.cpuMs, gatewayShare: cpu.gateway.share } : {}),
        overrunTicks: cpu.roundsOver,
        machine: { loadavg1: cpu.machine.loadavg1End, cpus: cpu.machine.cpus },
        bottleneck: cpu.bottleneck,
        explanation: cpu.explanation,
      },
    },
    processes: { count: o.processes!, runId: shards[0].shard.runId, cpu, merged: { agents: merged.agents, agentCycles: merged.agentCycles, records: merged.records, truth: merged.truth, shardsFailed: merged.shardsFailed }, agentSources: r.agentSources },
    records,
    timeline: sampler.timeline,
    accuracy,
    checks: verdict.checks,
    ok: ok,
    verdict: verdict.verdict,
    notChecked: verdict.notChecked,
  };
}
