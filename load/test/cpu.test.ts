import { pbkdf2Sync } from 'node:crypto';
import { eventLoopCpuMs, judgeCpu, ownCpuMs, processCpuMs } from '../cpu.js';

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

test('the event loop decides: a process over a core whose event loop is not saturated is not the bottleneck, one whose loop is, is', () => {
  // 1.2 cores in all, 0.6 of them on the event loop: the thread pool was busy, the loop was not.
  const spread = judgeCpu({ wallMs: 10_000, simulatorCpuMs: 12_000, eventLoopCpuMs: 6_000, cycles: 400, gatewayCpuMs: 2_000, overrunTicks: 1, ticks: 3, machine });
  expect(spread).toMatchObject({ bottleneck: 'unclear', simulatorShare: 1.2, eventLoopShare: 0.6, eventLoopCpuMs: 6000 });
  const loopBound = judgeCpu({ wallMs: 10_000, simulatorCpuMs: 9_800, eventLoopCpuMs: 9_000, cycles: 400, gatewayCpuMs: 2_000, overrunTicks: 1, ticks: 3, machine });
  expect(loopBound.bottleneck).toBe('simulator');
  expect(loopBound.explanation).toMatch(/its event loop 0\.9 of a core, the process 0\.98/);
});

test('with the rate the profile asks, a simulator whose event loop would need more than a core is named even when a busy machine kept its measured share low', () => {
  // As measured with 600 agents at --speed 1 on the shared machine: 1800 cycles, event loop 0.72 of a core, rounds 16 s instead of 6.
  const busy = { loadavg1: 6.4, cpus: 2 };
  const sim = judgeCpu({ wallMs: 45_200, simulatorCpuMs: 38_000, eventLoopCpuMs: 32_500, cycles: 1800, gatewayCpuMs: 7_300, overrunTicks: 3, ticks: 3, cyclesPerSecWanted: 100, machine: busy });
  expect(sim).toMatchObject({ bottleneck: 'simulator', demand: { cyclesPerSec: 100, simulatorEventLoop: 1.81, simulatorProcess: 2.11, gateway: 0.41 } });
  expect(sim.explanation).toMatch(/100 agent cycles per second at the 18\.06 ms of event-loop CPU each measured would need 1\.81 of a core for the simulator's one event loop/);
  // Without the wanted rate the same numbers stay 'unclear' (0.72 of a core measured): the rate is what tells them apart.
  expect(judgeCpu({ wallMs: 45_200, simulatorCpuMs: 38_000, eventLoopCpuMs: 32_500, cycles: 1800, gatewayCpuMs: 7_300, overrunTicks: 3, ticks: 3, machine: busy }).bottleneck).toBe('unclear');
  // A rate both sides could serve: still unclear, with what keeping up would take.
  const light = judgeCpu({ wallMs: 20_000, simulatorCpuMs: 6_000, eventLoopCpuMs: 5_000, cycles: 400, gatewayCpuMs: 1_400, overrunTicks: 1, ticks: 4, cyclesPerSecWanted: 16.7, machine: { loadavg1: 20, cpus: 2 } });
  expect(light.bottleneck).toBe('unclear');
  expect(light.explanation).toMatch(/keeping up would take 0\.25 of a core for the simulator and 0\.06 for the gateway/);
  // The gateway's demand decides when it is the one over a core.
  expect(judgeCpu({ wallMs: 10_000, simulatorCpuMs: 2_000, eventLoopCpuMs: 1_500, cycles: 100, gatewayCpuMs: 5_000, overrunTicks: 1, ticks: 2, cyclesPerSecWanted: 20, machine }).bottleneck).toBe('gateway');
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
  // The main thread did this work itself: its own counter grows by about as much.
  const l0 = eventLoopCpuMs()!;
  pbkdf2Sync('omsgw', 'salt', 300_000, 32, 'sha256');
  const loop = eventLoopCpuMs()! - l0;
  expect(loop).toBeGreaterThan(own * 0.5);
  expect(loop).toBeLessThan(own * 2 + 30);
});
