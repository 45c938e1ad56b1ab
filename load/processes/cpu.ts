import { SATURATED_SHARE } from '../cpu.js';

/** One process's CPU over the load window of `--processes N`. */
export interface ProcessCpu {
  /** 'agents k', 'cloud' (the fake cloud, in the coordinating process) or 'gateway'. */
  name: string;
  pid: number;
  /** Agent processes: their agents and cycles done in the window. */
  agents?: number;
  cycles?: number;
  cpuMs: number;
  /** cpuMs / wall time: 1.0 is one core busy all the time. */
  share: number;
  /** The main thread alone (the event loop), and its share of a core: what saturates first. */
  eventLoopCpuMs?: number;
  eventLoopShare?: number;
  /** CPU ms per agent cycle (the cloud and the gateway: per cycle of all agents). */
  cpuMsPerCycle?: number;
  /** Share of a core this process would need (event loop, when measured) for the cycles per second the profile asks. */
  demand?: number;
  /** Agent processes: rounds whose own part (its agents' cycles) took longer than the interval, and the longest. */
  roundsOver?: number;
  longestRoundMs?: number;
}

export interface ProcessesCpu {
  wallMs: number;
  /** Real time of one round (interval / speed). */
  roundMs: number;
  /** Rounds of the whole run, and those that ended (every process done) after their interval. */
  rounds: number;
  roundsOver: number;
  cyclesPerSecWanted: number;
  agentProcesses: ProcessCpu[];
  cloud: ProcessCpu;
  gateway?: ProcessCpu;
  /** Agent processes + the cloud: the simulator. */
  simulatorCpuMs: number;
  simulatorShare: number;
  /** busyCores: how many cores the whole machine was busy on average over the window (every process, this run's or not). */
  machine: { cpus: number; loadavg1Start: number; loadavg1End: number; busyCores?: number };
  bottleneck: 'none' | 'simulator' | 'gateway' | 'unclear';
  explanation: string;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Share of a core, demand and CPU per cycle of one process from its CPU over the window. */
export function processCpu(p: { name: string; pid: number; cpuMs: number; eventLoopCpuMs?: number; wallMs: number; cycles: number; cyclesPerSecWanted: number; agents?: number; roundMs?: number[]; intervalMs?: number }): ProcessCpu {
  const share = (ms: number) => r2(ms / Math.max(1, p.wallMs));
  const loopMs = p.eventLoopCpuMs ?? p.cpuMs;
  return {
    name: p.name,
    pid: p.pid,
    ...(p.agents !== undefined ? { agents: p.agents, cycles: p.cycles } : {}),
    cpuMs: Math.round(p.cpuMs),
    share: share(p.cpuMs),
    ...(p.eventLoopCpuMs !== undefined ? { eventLoopCpuMs: Math.round(p.eventLoopCpuMs), eventLoopShare: share(p.eventLoopCpuMs) } : {}),
    ...(p.cycles > 0 ? { cpuMsPerCycle: r2(p.cpuMs / p.cycles), demand: r2(((loopMs / p.cycles) * p.cyclesPerSecWanted) / 1000) } : {}),
    ...(p.roundMs && p.intervalMs !== undefined ? { roundsOver: p.roundMs.filter((ms) => ms > p.intervalMs!).length, longestRoundMs: Math.max(0, ...p.roundMs) } : {}),
  };
}

const loop = (p: ProcessCpu): number => p.eventLoopShare ?? p.share;
const saturated = (p: ProcessCpu): boolean => loop(p) >= SATURATED_SHARE || (p.demand ?? 0) >= SATURATED_SHARE;
const words = (p: ProcessCpu): string => `${p.name} ${p.eventLoopShare !== undefined ? `event loop ${p.eventLoopShare} of a core` : `${p.share} of a core`}${p.demand !== undefined ? ` (would need ${p.demand})` : ''}`;

/**
 * Who limited a `--processes N` run. No round over its interval: none. Otherwise the simulator when
 * an agent process or the fake cloud saturated its event loop (used, or would need for the cycles
 * asked, at least 0.85 of a core) or an agent process's own part of a round overran while the
 * gateway did not saturate; the gateway when it saturated and no simulator process did.
 */
export function judgeProcesses(m: Omit<ProcessesCpu, 'simulatorCpuMs' | 'simulatorShare' | 'bottleneck' | 'explanation'>): ProcessesCpu {
  const simulatorCpuMs = m.agentProcesses.reduce((n, p) => n + p.cpuMs, 0) + m.cloud.cpuMs;
  const simulatorShare = r2(simulatorCpuMs / Math.max(1, m.wallMs));
  const all = [...m.agentProcesses, m.cloud, ...(m.gateway ? [m.gateway] : [])];
  const used = r2(all.reduce((n, p) => n + p.share, 0));
  // What the whole run would need (threads included) at the rate asked: what it used, scaled by asked / done.
  const done = m.agentProcesses.reduce((n, p) => n + (p.cycles ?? 0), 0) / Math.max(1e-9, m.wallMs / 1000);
  const needed = done > 0 ? r2((used * m.cyclesPerSecWanted) / done) : undefined;
  const { busyCores } = m.machine;
  // Others used the CPU: the machine's cores were busy well beyond what this run's processes used.
  const others = busyCores !== undefined ? r2(Math.max(0, busyCores - used)) : undefined;
  const busy = others !== undefined ? others >= 0.1 * m.machine.cpus : Math.max(m.machine.loadavg1Start, m.machine.loadavg1End) > m.machine.cpus && used < SATURATED_SHARE * m.machine.cpus;
  const busyWords = busyCores !== undefined ? `; the machine was busy ${busyCores} of its ${m.machine.cpus} cores on average, ${others} of them by other processes` : busy ? ': other processes on this machine were using the CPU' : '';
  const machine = `all ${all.length} processes used ${used} of the machine's ${m.machine.cpus} cores${needed !== undefined ? ` and would need about ${needed} for the ${m.cyclesPerSecWanted} agent cycles per second asked` : ''} (load average ${m.machine.loadavg1Start} → ${m.machine.loadavg1End}${busyWords})`;
  let bottleneck: ProcessesCpu['bottleneck'] = 'none';
  let explanation = `every round finished within its interval; ${machine}`;
  if (m.roundsOver > 0) {
    const over = `${m.roundsOver} of ${m.rounds} rounds ended after their ${(m.roundMs / 1000).toFixed(1)} s interval`;
    const simSaturated = [...m.agentProcesses, m.cloud].filter(saturated);
    const ownOver = m.agentProcesses.filter((p) => (p.roundsOver ?? 0) > 0);
    const gatewaySaturated = m.gateway !== undefined && saturated(m.gateway);
    if (simSaturated.length) {
      bottleneck = 'simulator';
      explanation = `${over}: saturated: ${simSaturated.map(words).join(', ')}${gatewaySaturated ? `; the gateway too (${words(m.gateway!)})` : ''}; ${machine}`;
    } else if (gatewaySaturated) {
      bottleneck = 'gateway';
      explanation = `${over}: the gateway saturated (${words(m.gateway!)}) while no simulator process did; ${machine}`;
    } else if (ownOver.length) {
      bottleneck = 'simulator';
      explanation = `${over}: ${ownOver.length} of ${m.agentProcesses.length} agent processes took longer than the interval for their own agents' cycles (longest ${(Math.max(...ownOver.map((p) => p.longestRoundMs ?? 0)) / 1000).toFixed(1)} s) without any process saturating a core: they shared the cores with each other and the gateway; ${machine}`;
    } else {
      bottleneck = 'unclear';
      explanation = `${over} though every agent process finished its own cycles within the interval and nothing saturated a core (the wait at the quiescent points?); ${machine}`;
    }
  }
  return { ...m, simulatorCpuMs, simulatorShare, bottleneck, explanation };
}
