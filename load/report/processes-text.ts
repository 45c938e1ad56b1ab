import type { ProcessCpu, ProcessesCpu } from '../processes/cpu.js';
import type { LoadReport } from './types.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function line(p: ProcessCpu): string {
  const parts = [`${s(p.cpuMs)} CPU = ${p.share} of a core${p.eventLoopShare !== undefined ? ` (event loop ${p.eventLoopShare})` : ''}`];
  if (p.cycles !== undefined) parts.push(`${p.cycles} cycles`);
  if (p.cpuMsPerCycle !== undefined) parts.push(`${p.cpuMsPerCycle} ms per ${p.agents !== undefined ? 'cycle' : 'agent cycle of the run'}`);
  if (p.demand !== undefined) parts.push(`would need ${p.demand} of a core${p.eventLoopShare !== undefined ? ' (event loop)' : ''} to keep up`);
  if (p.roundsOver !== undefined) parts.push(`own part of a round over the interval ${p.roundsOver} time(s) (longest ${s(p.longestRoundMs ?? 0)})`);
  return `  ${p.name} (pid ${p.pid}${p.agents !== undefined ? `, ${p.agents} agents` : ''}): ${parts.join(', ')}`;
}

/** The CPU section of `--processes N`: every process's share of a core and rounds, then who limited the load. */
export function formatProcessesCpu(r: LoadReport): string[] {
  const pr = r.processes;
  if (!pr) return [];
  const c: ProcessesCpu = pr.cpu;
  return [
    `processes: ${pr.count} agent processes (shards k/${pr.count} of run ${pr.runId}, rounds in lockstep), the fake cloud in the coordinating process, the gateway in its own; over ${s(c.wallMs)} of load: ${c.rounds} rounds, ${c.roundsOver} ended after their ${s(c.roundMs)} interval`,
    ...c.agentProcesses.map(line),
    line(c.cloud),
    ...(c.gateway ? [line(c.gateway)] : []),
    `  simulator (agent processes + cloud): ${s(c.simulatorCpuMs)} CPU = ${c.simulatorShare} of a core; machine: ${c.machine.cpus} cores${c.machine.busyCores !== undefined ? `, busy ${c.machine.busyCores} of them on average (every process on it)` : ''}, load average ${c.machine.loadavg1Start} → ${c.machine.loadavg1End}`,
    `  distinct agent source addresses: ${pr.agentSources} over all processes, ${pr.merged.truth.distinctSources} summed over each process's own${pr.agentSources === pr.merged.truth.distinctSources ? ' (disjoint)' : ' (OVERLAP)'}`,
    `bottleneck: ${c.bottleneck} — ${c.explanation}`,
  ];
}
