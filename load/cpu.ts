import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Kernel clock ticks per second for /proc/<pid>/stat utime/stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat; undefined off Linux or when it is gone. */
export function processCpuMs(pid: number, statFile = `/proc/${pid}/stat`): number | undefined {
  let text: string;
  try {
    text = readFileSync(statFile, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/**
 * CPU time (ms) the whole machine has been busy so far, all cores together (every process, ours or
 * not), from the first line of /proc/stat: everything but idle and iowait; undefined off Linux.
 */
export function machineBusyMs(statFile = '/proc/stat'): number | undefined {
  let line: string;
  try {
    line = readFileSync(statFile, 'latin1').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = f[0] + f[1] + f[2] + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy * 1000) / USER_HZ;
}

/**
 * CPU time (ms) of this process's main thread alone — its JavaScript event loop — from
 * /proc/self/task/<pid>/stat; undefined off Linux. One event loop cannot use more than one core,
 * whatever the thread pool (async zlib, key generation) adds beside it.
 */
export function eventLoopCpuMs(): number | undefined {
  return processCpuMs(process.pid, `/proc/self/task/${process.pid}/stat`);
}

/** This process's CPU time (user + system, ms), threads included (zlib and TLS work on the libuv pool count). */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Who used the CPU during the load window, and which side could not keep up when rounds overran. */
export interface CpuShare {
  /** Real time of the load window (ms). */
  wallMs: number;
  /** CPU of this process (simulated agents, plus the fake cloud when it runs in-process). */
  simulatorCpuMs: number;
  /** simulatorCpuMs / wallMs: 1.0 is one core busy the whole time. */
  simulatorShare: number;
  /** The simulator's main thread (its event loop) alone, and its share of a core: what saturates first. */
  eventLoopCpuMs?: number;
  eventLoopShare?: number;
  /** Agent cycles per CPU-second of this process, and CPU ms per cycle. */
  cyclesPerCpuSecond: number;
  cpuMsPerCycle: number;
  /** The omsgw gateway child (when this run started it). */
  gatewayCpuMs?: number;
  gatewayShare?: number;
  /** Rounds over their interval, and whom the CPU numbers point at. */
  overrunTicks: number;
  /**
   * Agent cycles per second the profile asks (agents × speed / interval), and the share of a core
   * the simulator's event loop and the gateway would need for it at the CPU per cycle measured.
   */
  demand?: { cyclesPerSec: number; simulatorEventLoop: number; simulatorProcess: number; gateway?: number };
  /** 1-minute load average and cores at the end of the window: a shared machine starves both sides. */
  machine: { loadavg1: number; cpus: number };
  bottleneck: 'none' | 'simulator' | 'gateway' | 'unclear';
  explanation: string;
}

/** A share of one core at or above this counts as saturated (a Node event loop is single-threaded). */
export const SATURATED_SHARE = 0.85;

export function judgeCpu(m: {
  wallMs: number;
  simulatorCpuMs: number;
  eventLoopCpuMs?: number;
  cycles: number;
  gatewayCpuMs?: number;
  overrunTicks: number;
  ticks: number;
  /** Agent cycles per second the profile asks; with it, a side that could not keep up on any machine this size is named even when a busy machine kept its measured share low. */
  cyclesPerSecWanted?: number;
  machine?: { loadavg1: number; cpus: number };
}): CpuShare {
  const machine = m.machine ?? { loadavg1: Math.round(loadavg()[0] * 10) / 10, cpus: cpus().length };
  const share = (ms: number) => Math.round((ms / Math.max(1, m.wallMs)) * 100) / 100;
  const simulatorShare = share(m.simulatorCpuMs);
  const gatewayShare = m.gatewayCpuMs === undefined ? undefined : share(m.gatewayCpuMs);
  const eventLoopShare = m.eventLoopCpuMs === undefined ? undefined : share(m.eventLoopCpuMs);
  // The event loop saturates before the process does (thread-pool work runs beside it): judge by it when known.
  const loopShare = eventLoopShare ?? simulatorShare;
  const loopWords = eventLoopShare !== undefined ? `its event loop ${eventLoopShare} of a core, the process ${simulatorShare}` : `${simulatorShare} of a core`;
  // What keeping up would take: CPU per cycle (as measured) × the cycles per second the profile asks.
  const need = (ms: number | undefined) => (ms === undefined || !m.cycles || !m.cyclesPerSecWanted ? undefined : Math.round(((ms / m.cycles) * m.cyclesPerSecWanted) / 10) / 100);
  const demand = m.cyclesPerSecWanted && m.cycles
    ? { cyclesPerSec: Math.round(m.cyclesPerSecWanted * 10) / 10, simulatorEventLoop: need(m.eventLoopCpuMs ?? m.simulatorCpuMs)!, simulatorProcess: need(m.simulatorCpuMs)!, ...(m.gatewayCpuMs !== undefined ? { gateway: need(m.gatewayCpuMs) } : {}) }
    : undefined;
  let bottleneck: CpuShare['bottleneck'] = 'none';
  let explanation = `every round finished within its interval (simulator ${simulatorShare} of a core${gatewayShare !== undefined ? `, gateway ${gatewayShare}` : ''})`;
  if (m.overrunTicks > 0) {
    const over = `${m.overrunTicks} of ${m.ticks} rounds overran their interval`;
    if (demand && demand.simulatorEventLoop >= SATURATED_SHARE && (demand.gateway === undefined || demand.simulatorEventLoop >= demand.gateway)) {
      bottleneck = 'simulator';
      explanation = `${over}: ${demand.cyclesPerSec} agent cycles per second at the ${Math.round((((m.eventLoopCpuMs ?? m.simulatorCpuMs) / m.cycles) * 100)) / 100} ms of event-loop CPU each measured would need ${demand.simulatorEventLoop} of a core for the simulator's one event loop (the process ${demand.simulatorProcess}${demand.gateway !== undefined ? `, the gateway ${demand.gateway}` : ''}; measured: ${loopWords}): the simulator, not the gateway, limited the load; use fewer agents per process (--processes N on this machine, --shard across machines)`;
    } else if (demand?.gateway !== undefined && demand.gateway >= SATURATED_SHARE) {
      bottleneck = 'gateway';
      explanation = `${over}: ${demand.cyclesPerSec} agent cycles per second would need ${demand.gateway} of a core for the gateway (simulator event loop ${demand.simulatorEventLoop}): the gateway limited the load`;
    } else if (loopShare >= SATURATED_SHARE && (gatewayShare === undefined || loopShare >= gatewayShare)) {
      bottleneck = 'simulator';
      explanation = `${over} while the simulator used ${loopWords}: the simulator, not the gateway, limited the load; use fewer agents per process (--processes N on this machine, --shard across machines)`;
    } else if (gatewayShare !== undefined && gatewayShare >= SATURATED_SHARE) {
      bottleneck = 'gateway';
      explanation = `${over} while the gateway used ${gatewayShare} of a core (simulator ${loopWords}): the gateway limited the load`;
    } else {
      bottleneck = 'unclear';
      explanation = `${over} but neither the simulator (${loopWords}) nor ${gatewayShare !== undefined ? `the gateway (${gatewayShare})` : 'the gateway (not measured: external)'} saturated a core: latency or a busy machine held the rounds back (load average ${machine.loadavg1} on ${machine.cpus} cores${machine.loadavg1 > machine.cpus ? ': other processes were using the CPU' : ''}${demand ? `; keeping up would take ${demand.simulatorProcess} of a core for the simulator${demand.gateway !== undefined ? ` and ${demand.gateway} for the gateway` : ''}` : ''})`;
    }
  }
  return {
    wallMs: Math.round(m.wallMs),
    simulatorCpuMs: Math.round(m.simulatorCpuMs),
    simulatorShare,
    ...(m.eventLoopCpuMs !== undefined ? { eventLoopCpuMs: Math.round(m.eventLoopCpuMs), eventLoopShare } : {}),
    cyclesPerCpuSecond: Math.round((m.cycles / Math.max(1e-9, m.simulatorCpuMs / 1000)) * 10) / 10,
    cpuMsPerCycle: m.cycles ? Math.round((m.simulatorCpuMs / m.cycles) * 100) / 100 : 0,
    ...(m.gatewayCpuMs !== undefined ? { gatewayCpuMs: Math.round(m.gatewayCpuMs), gatewayShare } : {}),
    overrunTicks: m.overrunTicks,
    ...(demand ? { demand } : {}),
    machine,
    bottleneck,
    explanation,
  };
}
