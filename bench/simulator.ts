import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../lib/paths.js';
import type { LoadReport } from '../load/report/types.js';

/** The target: simulated agent + fake cloud CPU per agent cycle at the 200 KB sizing profile. */
export const SIMULATOR_TARGET_MS_PER_CYCLE = 10;

export interface SimulatorMetrics {
  agents: number;
  /** Agent processes (`omsgw load --processes`); with more than one, the cloud runs in the coordinating process. */
  processes: number;
  cycles: number;
  /** CPU of the load process (agents + in-process fake cloud; the gateway is another process and excluded) over the load window. */
  cpuMs: number;
  cpuMsPerCycle: number;
  cyclesPerCpuSecond: number;
  /** cpuMsPerCycle / the 10 ms target: <= 1 meets it. */
  ratioToTarget: number;
  /** The load process's main thread (event loop) alone, per cycle: what saturates first. */
  eventLoopMsPerCycle?: number;
  /**
   * The gateway child's CPU per cycle over the same window: the same work every run, so a yardstick
   * for how fast the shared machine was (simulator / gateway compares runs taken under different load).
   */
  gatewayMsPerCycle?: number;
  /** 1-minute load average at the end of the window, and rounds over their interval. */
  loadavg1: number;
  overrunRounds: number;
  rounds: number;
  kbPerCycle: number;
  /** Every record created was ingested exactly once (ids unique, counted by the ledger). */
  records: { created: number; ingested: number; lost: number; ok: boolean };
}

/**
 * The simulator's own cost: `omsgw load` with `agents` agents at the sizing profile (200 KB per 6 s,
 * Windows/Linux 1:1, Linux opening a new TCP + TLS connection per upload) as a child process; its
 * report measures its own CPU with process.cpuUsage() over the load window, or with `spread.processes`
 * > 1 the CPU of every agent process and of the cloud (from /proc) over the same window.
 */
export async function simulatorCost(agents: number, durationMs: number, spread: { processes: number; concurrency?: number } = { processes: 1 }): Promise<SimulatorMetrics> {
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-bench-sim-'));
  try {
    const json = join(dir, 'load.json');
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [cliPath(), 'load', '--agents', String(agents), '--duration', `${durationMs}ms`, '--kb-per-upload', '200', '--interval', '6s', '--json', json, '--quiet', ...(spread.processes > 1 ? ['--processes', String(spread.processes)] : []), ...(spread.concurrency ? ['--concurrency', String(spread.concurrency)] : [])], { maxBuffer: 16 << 20 }, (err, _out, stderr) => {
        // Exit 1 is a verdict (e.g. overran rounds are not failures, a lost record is); the report is still written.
        if (err && (err as { code?: number }).code !== 1) reject(new Error(`omsgw load exited ${(err as { code?: number }).code}: ${String(stderr).trim().slice(-500)}`));
        else resolve();
      });
    });
    const r = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
    const cpu = r.agents?.cpu;
    if (!cpu || !r.records) throw new Error('omsgw load wrote no CPU or records section');
    const cycles = r.throughput.requests;
    const per = (ms: number): number => (cycles ? Math.round((ms / cycles) * 100) / 100 : 0);
    return {
      agents,
      processes: spread.processes,
      cycles,
      cpuMs: cpu.simulatorCpuMs,
      cpuMsPerCycle: cpu.cpuMsPerCycle,
      cyclesPerCpuSecond: cpu.cyclesPerCpuSecond,
      ratioToTarget: Math.round((cpu.cpuMsPerCycle / SIMULATOR_TARGET_MS_PER_CYCLE) * 100) / 100,
      ...(cpu.eventLoopCpuMs !== undefined ? { eventLoopMsPerCycle: per(cpu.eventLoopCpuMs) } : {}),
      ...(cpu.gatewayCpuMs !== undefined ? { gatewayMsPerCycle: per(cpu.gatewayCpuMs) } : {}),
      loadavg1: cpu.machine.loadavg1,
      overrunRounds: cpu.overrunTicks,
      rounds: r.agents!.ticks,
      kbPerCycle: r.agents!.kbPerUploadMeasured,
      records: { created: r.records.created, ingested: r.records.ingested, lost: r.records.lost, ok: r.records.ok },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
