import { pbkdf2Sync } from 'node:crypto';
import { judgeCpu, ownCpuMs, processCpuMs } from '../cpu.js';

const machine = { loadavg1: 1, cpus: 2 };

test('the simulator is named the bottleneck only when rounds overran and it saturated a core', () => {
  expect(judgeCpu({ wallMs: 10_000, simulatorCpuMs: 9_500, cycles: 400, gatewayCpuMs: 2_000, overrunTicks: 2, ticks: 3, machine })).toMatchObject({
    bottleneck: 'simulator', simulatorShare: 0.95, gatewayShare: 0.2, cpuMsPerCycle: 23.75, cyclesPerCpuSecond: 42.1,
  });
  // The same CPU with every round on time: nothing was a bottleneck.
  expect(judgeCpu({ wallMs: 10_000, simulatorCpuMs: 9_500, cycles: 400, gatewayCpuMs: 2_000, overrunTicks: 0, ticks: 3, machine }).bottleneck).toBe('none');
  expect(judgeCpu({ wallMs: 10_000, simulatorCpuMs: 3_000, cycles: 400, gatewayCpuMs: 9_000, overrunTicks: 1, ticks: 3, machine }).bottleneck).toBe('gateway');
  const starved = judgeCpu({ wallMs: 10_000, simulatorCpuMs: 4_000, cycles: 400, gatewayCpuMs: 1_000, overrunTicks: 1, ticks: 1, machine: { loadavg1: 18, cpus: 2 } });
  expect(starved.bottleneck).toBe('unclear');
  expect(starved.explanation).toMatch(/load average 18 on 2 cores: other processes were using the CPU/);
});

test('CPU time is read from this process and from /proc/<pid>/stat, and grows with work', () => {
  const a = ownCpuMs();
  const p0 = processCpuMs(process.pid)!;
  // A fixed amount of work (not a time window): CPU counts what was done, however busy the machine.
  pbkdf2Sync('omsgw', 'salt', 300_000, 32, 'sha256');
  const own = ownCpuMs() - a;
  const proc = processCpuMs(process.pid)! - p0;
  expect(own).toBeGreaterThan(20);
  // /proc counts in 10 ms ticks: the same work, within a tick or two.
  expect(Math.abs(proc - own)).toBeLessThanOrEqual(Math.max(30, own * 0.2));
  expect(processCpuMs(2 ** 22 + 12345)).toBeUndefined();
});
