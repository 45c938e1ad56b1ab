import type { LoadReport } from './types.js';
import { formatProcessesCpu } from './processes-text.js';

/** The report holds µs (latencyUnit); the text shows ms, and says so next to every number. */
const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 || /^[a-zA-Z]/.test(r[i] ?? '') ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** The final report as text: throughput, latency, errors, counter accuracy, verdict. */
export function formatLoadReport(r: LoadReport): string {
  const out: string[] = [];
  out.push(`omsgw load — profile ${r.profile}, ${(r.durationMs / 1000).toFixed(1)} s, gateway ${r.gateway.kind} at ${r.gateway.proxy.host}:${r.gateway.proxy.port}`);
  if (r.agents) out.push(`agents: ${r.agents.count} (${Object.entries(r.agents.byOs).map(([k, v]) => `${v} ${k}`).join(', ')}), ${r.agents.onboarded} onboarded, ${r.agents.ticks} upload rounds (${r.agents.overrunTicks} over their interval), ~${r.agents.kbPerUploadMeasured} KB decoded per upload cycle`);
  if (r.shard) out.push(`shard ${r.shard.index} of ${r.shard.count} of run ${r.shard.runId} (seed ${r.options.seed})`);
  const cpu = r.processes ? undefined : r.agents?.cpu;
  out.push(...formatProcessesCpu(r));
  if (cpu) out.push(`simulator CPU: ${(cpu.simulatorCpuMs / 1000).toFixed(1)} s in ${(cpu.wallMs / 1000).toFixed(1)} s (${cpu.simulatorShare} of a core${cpu.eventLoopShare !== undefined ? `; its event loop ${cpu.eventLoopShare}` : ''}), ${cpu.cpuMsPerCycle} ms per agent cycle (${cpu.cyclesPerCpuSecond} cycles per CPU-second)${cpu.gatewayCpuMs !== undefined ? `; gateway ${(cpu.gatewayCpuMs / 1000).toFixed(1)} s (${cpu.gatewayShare} of a core)` : ''}`);
  if (cpu && cpu.bottleneck !== 'none') out.push(`bottleneck: ${cpu.bottleneck} — ${cpu.explanation}`);
  if (r.agents && r.agents.overrunTicks > 0) {
    out.push(`warning: ${r.agents.overrunTicks} of ${r.agents.ticks} rounds took longer than their interval, so fewer uploads were offered than the profile asks; the simulator (${r.processes ? `${r.processes.count} agent processes and the cloud` : 'one process'}) or the gateway could not keep up — use omsgw bench's agents workload for capacity`);
  }
  out.push(`throughput: ${r.throughput.requests} ${r.profile === 'agents' ? 'agent cycles' : 'requests'} in ${(r.throughput.loadMs / 1000).toFixed(1)} s, ${r.throughput.requestsPerSec}/s${r.throughput.mbPerSec !== undefined ? `, ${r.throughput.mbPerSec} MB/s` : ''}${r.throughput.recordsIngested !== undefined ? `, ${r.throughput.recordsIngested} records ingested` : ''}`);
  out.push(`latency of ${r.latencyMeasures}: p50 ${ms(r.latency.p50)}, p90 ${ms(r.latency.p90)}, p99 ${ms(r.latency.p99)}, max ${ms(r.latency.max)} (n=${r.latency.count})`);
  const errs = Object.entries(r.errorsByKind);
  out.push(`errors: ${errs.length ? errs.map(([k, v]) => `${k}=${v}`).join(', ') : 'none'}`);
  out.push(`caused on purpose: ${r.probes.forbiddenSent} forbidden CONNECTs → ${r.probes.rejectionsCaused} rejections; ${r.probes.errorProbesSent} unreachable-upstream CONNECTs → ${r.probes.errorsCaused} errors`);
  if (r.httpRefusals) out.push(`plain-HTTP refusals (autocannon): ${r.httpRefusals.responses} GETs answered, by status ${Object.entries(r.httpRefusals.byStatus).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}, ${r.httpRefusals.reqPerSec} req/s`);
  if (r.accuracy) {
    out.push('', 'counter accuracy (last quiescent point; every quiescent point must match):');
    out.push(
      table([
        ['counter', 'gateway', 'truth', 'truth is', 'quiescent points', 'deviations', 'max |diff| any sample', ''],
        ...r.accuracy.rows.map((row) => [row.counter, String(row.gateway ?? '-'), String(row.truth ?? '-'), row.truthName, String(row.quiescentPoints), String(row.quiescentDeviations), String(row.maxAbsDeviationAnySample), row.ok ? 'ok' : 'DEVIATES']),
      ]),
    );
    if (r.accuracy.records) {
      const rc = r.accuracy.records;
      out.push(`records: created ${rc.created}, acknowledged ${rc.acknowledged}, ingested ${rc.ingested}, dropped ${rc.dropped}, queued ${rc.queued}, lost ${rc.lost} ${rc.ok ? 'ok' : 'LOST'}`);
    }
    for (const d of r.accuracy.deviations.slice(0, 10)) out.push(`  deviation at ${(d.t / 1000).toFixed(1)} s${d.label ? ` (${d.label})` : ''}: ${d.counter} gateway ${d.gateway} vs truth ${d.truth}`);
  }
  out.push('');
  for (const c of r.checks) out.push(`${c.ok ? 'held  ' : 'FAILED'} ${c.what}: ${c.detail}`);
  for (const n of r.notChecked) out.push(`not checked: ${n}`);
  const held = r.checks.map((c) => c.detail).join(', ');
  const notChecked = r.notChecked.length ? `; ${r.notChecked.join('; ')}` : '';
  out.push(r.ok ? `RESULT: ok — ${held}${notChecked}` : `RESULT: FAILED — ${r.verdict.join('; ')}${notChecked}`);
  return out.join('\n');
}
