/**
 * `omsgw load --processes N`: the agents of one run spread over N agent processes (shards k/N,
 * lockstep rounds over IPC), one report. Child-process tests: build dist first (npm run build).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import type { LoadReport } from '../report/types.js';
import { agentsOfProcess, mixOfProcess } from '../processes/children.js';
import { judgeProcesses, processCpu, type ProcessCpu } from '../processes/cpu.js';
import { machineBusyMs } from '../cpu.js';
import { writeFileSync } from 'node:fs';
import { runOmsgw } from './helpers.js';

jest.setTimeout(120_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-processes-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const omsgw = (args: string[]) => runOmsgw(args, { timeoutMs: 100_000 });

test('6 agents in 2 agent processes: one report, counters exact at every quiescent point, created = ingested, CPU of every process, disjoint identities', async () => {
  const json = join(dir, 'p2.json');
  // --speed 6: the 6 s interval lasts 1 s; 3 s of load are 3 rounds. Probes come from this process.
  const r = await omsgw(['load', '--agents', '6', '--processes', '2', '--duration', '3s', '--speed', '6', '--kb-per-upload', '8', '--forbidden-rate', '2', '--error-rate', '1', '--json', json, '--quiet']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
  const p = report.processes!;
  expect(p.count).toBe(2);
  expect(report.options.processes).toBe(2);
  expect(report.agents).toMatchObject({ count: 6, onboarded: 6, byOs: { windows: 3, linux: 3 } });
  // Counters: every quiescent point (start, each round, end) exact against the truth of all processes together.
  const quiescent = report.timeline.filter((t) => t.quiescent);
  expect(quiescent.map((t) => t.label)).toEqual(['start', ...Array.from({ length: p.cpu.rounds }, (_, i) => `tick ${i + 1}`), 'end']);
  expect(p.cpu.rounds).toBeGreaterThanOrEqual(2);
  expect(report.accuracy!.ok).toBe(true);
  const rows = Object.fromEntries(report.accuracy!.rows.map((x) => [x.counter, x]));
  // 6 agents + the two probe sources of this process.
  expect(rows['Connected Client']).toMatchObject({ gateway: 8, truth: 8, quiescentDeviations: 0, quiescentPoints: quiescent.length });
  expect(rows['Active Client Connection']).toMatchObject({ gateway: 0, truth: 0, quiescentDeviations: 0 });
  expect(rows['Rejection Count']).toMatchObject({ gateway: report.probes.rejectionsCaused, quiescentDeviations: 0 });
  expect(rows['Error Count']).toMatchObject({ gateway: report.probes.errorsCaused, quiescentDeviations: 0 });
  expect(report.probes).toMatchObject({ forbiddenSent: 6, rejectionsCaused: 6, errorProbesSent: 3, errorsCaused: 3 });
  // Nothing lost: the shards' records, summed by the merge code.
  expect(report.records).toMatchObject({ lost: 0, dropped: 0, queued: 0, ok: true });
  expect(report.records!.created).toBeGreaterThan(0);
  expect(report.records!.ingested).toBe(report.records!.created);
  expect(p.merged.records.created).toBe(report.records!.created);
  expect(p.merged.agents).toBe(6);
  // Every cycle of every process is in the one latency histogram and the merged cycle count.
  expect(report.latency.count).toBe(p.merged.agentCycles);
  expect(report.throughput.requests).toBe(p.merged.agentCycles);
  // Disjoint identities: 3 + 3 source addresses, 6 in their union; the gateway saw 6 agents + 2 probes.
  expect(p.merged.truth.distinctSources).toBe(6);
  expect(p.agentSources).toBe(6);
  // CPU of each agent process, the cloud (this process) and the gateway, each its own pid.
  const c = p.cpu;
  expect(c.agentProcesses.map((a) => [a.name, a.agents])).toEqual([['agents 1', 3], ['agents 2', 3]]);
  for (const a of c.agentProcesses) {
    expect(a.cpuMs).toBeGreaterThan(0);
    expect(a.eventLoopCpuMs).toBeGreaterThan(0);
    expect(a.eventLoopCpuMs).toBeLessThanOrEqual(a.cpuMs);
    expect(a.cycles).toBeGreaterThanOrEqual(3 * 2);
    expect(a.roundsOver).toBeGreaterThanOrEqual(0);
  }
  expect(c.agentProcesses[0].cycles! + c.agentProcesses[1].cycles!).toBe(report.latency.count);
  expect(c.cloud.cpuMs).toBeGreaterThan(0);
  expect(c.gateway!.cpuMs).toBeGreaterThan(0);
  expect(new Set([c.agentProcesses[0].pid, c.agentProcesses[1].pid, c.cloud.pid, c.gateway!.pid]).size).toBe(4);
  expect(c.simulatorCpuMs).toBe(c.agentProcesses[0].cpuMs + c.agentProcesses[1].cpuMs + c.cloud.cpuMs);
  expect(['none', 'simulator', 'gateway', 'unclear']).toContain(c.bottleneck);
  // The whole machine's busy time over the window includes this run's own processes.
  expect(c.machine.busyCores).toBeGreaterThan(0);
  expect(report.ok).toBe(true);
  // The text report: one section with a line per process and the verdict.
  for (const l of [/^processes: 2 agent processes/m, /^ {2}agents 1 \(pid \d+, 3 agents\): .* of a core \(event loop /m, /^ {2}agents 2 \(pid \d+, 3 agents\)/m, /^ {2}fake cloud \(with the coordinator\) \(pid \d+\)/m, /^ {2}gateway \(pid \d+\)/m, /distinct agent source addresses: 6 over all processes, 6 summed .* \(disjoint\)/, /^bottleneck: (none|simulator|gateway|unclear) — /m, /^RESULT: ok/m]) {
    expect(r.stdout).toMatch(l);
  }
});

test('--processes 1 is the one-process run: no processes section, the simulator CPU line as before', async () => {
  const json = join(dir, 'p1.json');
  const r = await omsgw(['load', '--agents', '2', '--processes', '1', '--duration', '1s', '--speed', '6', '--kb-per-upload', '4', '--json', json, '--quiet']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
  expect(report.processes).toBeUndefined();
  expect(report.options.processes).toBeUndefined();
  expect(r.stdout).toMatch(/^simulator CPU: /m);
  expect(r.stdout).not.toMatch(/^processes: /m);
});

describe('bad input exits 2 with what to fix', () => {
  test.each([
    [['--processes', '0'], /--processes must be a whole number of agent processes, 1 or more .*got "0"/],
    [['--processes', '-1'], /--processes must be a whole number .*got "-1"/],
    [['--processes', '1.5'], /--processes must be a whole number .*got "1\.5"/],
    [['--processes', 'abc'], /--processes must be a whole number .*got "abc"/],
    [['--processes', '3', '--agents', '2'], /--processes 3 is more than --agents 2: every agent process needs at least one agent/],
    [['--processes', '65', '--agents', '100'], /--processes must be a whole number from 1 to 64, got 65/],
    [['--processes', '2', '--shard', '1/2', '--run-id', 'r'], /--processes runs the shards of one run itself .*drop --shard/],
    [['--processes', '2', '--cloud', 'http://127.0.0.1:9', '--workspace', 'x:y'], /--processes starts its own fake cloud .*drop --cloud/],
    [['--processes', '2', '--gateway', '127.0.0.1:9'], /--processes starts an omsgw gateway .*drop --gateway/],
    [['--processes', '2', '--profile', 'churn'], /--processes spreads simulated agents over processes: it is for the agents profile, not --profile churn/],
    [['--processes', '2', '--profile', 'idle', '--connections', '5'], /not --profile idle/],
    [['--coordinated'], /--coordinated is set by omsgw load --processes/],
  ])('omsgw load %j', async (args, message) => {
    const r = await omsgw(['load', ...args, '--duration', '1s']);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

test('shares of the agents: the remainder goes to the first processes', () => {
  expect([1, 2, 3].map((k) => agentsOfProcess(8, 3, k))).toEqual([3, 3, 2]);
  expect([1, 2].map((k) => agentsOfProcess(600, 2, k))).toEqual([300, 300]);
});

test('the run\'s mix is split once and dealt to the processes, so their sum is the one-process mix', () => {
  const o = { count: 6, mix: { windows: 1, linux: 1 } };
  expect([1, 2].map((k) => mixOfProcess(o, 2, k))).toEqual([{ windows: 2, linux: 1, ama: 0 }, { windows: 1, linux: 2, ama: 0 }]);
  const three = [1, 2, 3].map((k) => mixOfProcess({ count: 10, mix: { windows: 1, linux: 1, ama: 1 } }, 3, k));
  expect(three.map((m) => m.windows + m.linux + m.ama)).toEqual([1, 2, 3].map((k) => agentsOfProcess(10, 3, k)));
  expect(['windows', 'linux', 'ama'].map((kind) => three.reduce((n, m) => n + m[kind as 'windows'], 0))).toEqual([4, 3, 3]);
});

describe('who limited a --processes run', () => {
  const wallMs = 10_000;
  const agentsProc = (cpuMs: number, loopMs: number, roundMs: number[]): ProcessCpu =>
    processCpu({ name: 'agents', pid: 1, agents: 300, cycles: 500, cpuMs, eventLoopCpuMs: loopMs, wallMs, cyclesPerSecWanted: 50, roundMs, intervalMs: 6000 });
  const other = (name: string, cpuMs: number): ProcessCpu => processCpu({ name, pid: 2, cycles: 1000, cpuMs, wallMs, cyclesPerSecWanted: 100 });
  const base = { wallMs, roundMs: 6000, rounds: 3, cyclesPerSecWanted: 100, machine: { cpus: 2, loadavg1Start: 3, loadavg1End: 4 } };

  test('no round over its interval: none, whatever the shares', () => {
    const v = judgeProcesses({ ...base, roundsOver: 0, agentProcesses: [agentsProc(9_000, 9_000, [5000])], cloud: other('cloud', 9_000), gateway: other('gateway', 9_000) });
    expect(v.bottleneck).toBe('none');
    expect(v.explanation).toMatch(/every round finished within its interval; all 3 processes used 2.7 of the machine's 2 cores/);
  });

  test('an agent process with a saturated event loop: simulator', () => {
    const v = judgeProcesses({ ...base, roundsOver: 2, agentProcesses: [agentsProc(9_500, 9_000, [9000, 8000, 4000]), agentsProc(3_000, 2_500, [4000])], cloud: other('cloud', 3_000), gateway: other('gateway', 2_000) });
    expect(v.bottleneck).toBe('simulator');
    expect(v.explanation).toMatch(/^2 of 3 rounds ended after their 6\.0 s interval: saturated: agents event loop 0\.9 of a core \(would need 0\.9\)/);
    expect(v.agentProcesses[0]).toMatchObject({ share: 0.95, eventLoopShare: 0.9, cpuMsPerCycle: 19, demand: 0.9, roundsOver: 2, longestRoundMs: 9000 });
    expect(v.simulatorCpuMs).toBe(15_500);
  });

  test('the cloud needing more than a core for the cycles asked: simulator', () => {
    // 8 ms per cycle × 100 cycles per second = 0.8 of a core used; 9 ms would need 0.9.
    const v = judgeProcesses({ ...base, roundsOver: 1, agentProcesses: [agentsProc(4_000, 3_000, [5000])], cloud: other('cloud', 9_000), gateway: other('gateway', 2_000) });
    expect(v.bottleneck).toBe('simulator');
    expect(v.explanation).toMatch(/saturated: cloud 0\.9 of a core \(would need 0\.9\)/);
  });

  test('the gateway saturated and no simulator process: gateway', () => {
    const v = judgeProcesses({ ...base, roundsOver: 1, agentProcesses: [agentsProc(4_000, 3_000, [7000])], cloud: other('cloud', 3_000), gateway: other('gateway', 9_000) });
    expect(v.bottleneck).toBe('gateway');
  });

  test('nothing saturated but an agent process could not finish its own cycles in the interval: simulator (the processes shared the cores)', () => {
    const v = judgeProcesses({ ...base, roundsOver: 1, agentProcesses: [agentsProc(4_000, 3_000, [7000, 5000])], cloud: other('cloud', 3_000), gateway: other('gateway', 2_000) });
    expect(v.bottleneck).toBe('simulator');
    expect(v.explanation).toMatch(/1 of 1 agent processes took longer than the interval for their own agents' cycles \(longest 7\.0 s\)/);
  });

  test('a machine kept busy by other processes is said so, from its busy time', () => {
    const v = judgeProcesses({ ...base, machine: { ...base.machine, busyCores: 1.95 }, roundsOver: 1, agentProcesses: [agentsProc(4_000, 3_000, [7000])], cloud: other('cloud', 3_000), gateway: other('gateway', 2_000) });
    // This run used 0.4 + 0.3 + 0.2 = 0.9 cores; the other 1.05 were someone else's.
    expect(v.explanation).toMatch(/all 3 processes used 0\.9 of the machine's 2 cores and would need about 1\.8 for the 100 agent cycles per second asked \(load average 3 → 4; the machine was busy 1\.95 of its 2 cores on average, 1\.05 of them by other processes\)/);
  });

  test('nothing saturated and every process on time: unclear', () => {
    const v = judgeProcesses({ ...base, roundsOver: 1, agentProcesses: [agentsProc(4_000, 3_000, [5000])], cloud: other('cloud', 3_000), gateway: other('gateway', 2_000) });
    expect(v.bottleneck).toBe('unclear');
  });
});

test('the machine\'s busy time from /proc/stat: everything but idle and iowait', () => {
  const file = join(dir, 'stat');
  // user nice system idle iowait irq softirq steal guest guest_nice
  writeFileSync(file, 'cpu  100 3 50 800 10 1 5 2 7 0\ncpu0 50 1 25 400 5 0 2 1 3 0\n');
  expect(machineBusyMs(file)).toBe((100 + 3 + 50 + 1 + 5 + 2) * 10);
  expect(machineBusyMs(join(dir, 'missing'))).toBeUndefined();
  expect(machineBusyMs()).toBeGreaterThan(0);
});

test('an agent process killed mid-run: exit 1 with one line naming it and how it ended, no stack trace, and no process left behind', async () => {
  const child = spawn(process.execPath, [cliPath(), 'load', '--agents', '4', '--processes', '2', '--duration', '60s', '--speed', '6', '--kb-per-upload', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const pids = new Promise<number[]>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /agent processes \(pids (\d+), (\d+)\)/.exec(stderr);
      if (m) resolve([Number(m[1]), Number(m[2])]);
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [first, second] = await pids;
  process.kill(first, 'SIGKILL');
  expect(await exited).toBe(1);
  const failure = stderr.split('\n').filter((l) => l.startsWith('omsgw: '));
  expect(failure).toHaveLength(1);
  expect(failure[0]).toMatch(new RegExp(`^omsgw: agent process 1 \\(pid ${first}\\) (ended|was killed by SIGKILL|exited)`));
  expect(stderr).not.toMatch(/^\s+at /m);
  // The other agent process was stopped with the run.
  expect(() => process.kill(second, 0)).toThrow(/ESRCH/);
});
