import { checkTargets, formatText, ratioTable, renderBenchHtml } from '../report.js';
import type { BenchResults } from '../run.js';

const ka = (reqPerSec: number, p99Us = 2000) => ({ reqPerSec, p50Us: 500, p90Us: 1000, p99Us, maxUs: 9000, errors: 0, errorKinds: {} });
const idle = (bytesPerTunnel: number, open = 1000, errors = 0) => ({ tunnels: open, open, errors, errorKinds: {}, rssBeforeBytes: 1, rssAfterBytes: 1 + bytesPerTunnel * open, bytesPerTunnel });

function synthetic(): BenchResults {
  return {
    version: 1,
    date: '2026-01-01T00:00:00.000Z',
    quick: true,
    machine: { cpus: 2, model: 'test', node: 'v20', platform: 'linux', loadavgStart: 1, loadavgEnd: 1 },
    notes: ['note'],
    peers: [
      { name: 'direct', description: '', status: 'ok' },
      { name: 'omsgw', description: '', status: 'ok' },
      { name: 'squid', description: '', status: 'ok' },
      { name: 'tinyproxy', description: '', status: 'skipped', reason: 'apt-get install tinyproxy failed' },
    ],
    keepalive: { direct: ka(50_000), omsgw: ka(30_000), squid: ka(26_000) },
    halfload: { ratePerSec: 15_000, byPeer: { direct: ka(15_000, 1000), omsgw: ka(15_000, 1600), squid: ka(15_000, 2500) } },
    churn: { direct: ka(1300), omsgw: ka(900), squid: ka(1000) },
    bulk1: { direct: { mbPerSec: 800, errors: 0, errorKinds: {} }, omsgw: { mbPerSec: 400, errors: 0, errorKinds: {} } },
    bulk100: {},
    idle: { omsgw: { '1000': idle(10 * 1024), '8000': idle(11 * 1024, 8000) }, squid: { '1000': idle(33 * 1024) } },
    agents: { omsgw: { steps: [{ agents: 600, expectedRequests: 100, requests: 100, errors: 0, errorKinds: {}, p99Us: 1, ok: true }], sustained: 600 } },
    errors: [],
    durationMs: 1,
  };
}

test('ratio table: values per peer and omsgw/peer ratios', () => {
  const t = ratioTable(synthetic());
  expect(t.head).toEqual(['workload', 'metric', 'direct', 'omsgw', 'squid', 'omsgw/direct', 'omsgw/squid']);
  const row = t.rows.find((r) => r[0] === 'keepalive (50 conns)' && r[1].startsWith('req/s'))!;
  expect(row.slice(2)).toEqual(['50,000', '30,000', '26,000', '0.60x', '1.15x']);
  const mem = t.rows.find((r) => r[0] === '1000 idle tunnels' && r[1].startsWith('RSS'))!;
  expect(mem.slice(2)).toEqual(['-', '10.00', '33.00', '-', '0.30x']);
});

test('targets: met and missed, with the measured numbers', () => {
  const byTarget = Object.fromEntries(checkTargets(synthetic()).map((c) => [c.target, c]));
  expect(byTarget['kept-alive req/s with inspection >= 1.0x best peer']).toMatchObject({ met: true, measured: '1.15x squid (30000 vs 26000)' });
  expect(byTarget['kept-alive req/s aim: 0.7x direct']).toMatchObject({ met: false, measured: '0.60x direct' });
  expect(byTarget['new tunnel + TLS rate >= best peer']).toMatchObject({ met: false });
  expect(byTarget['added p99 at half load < 1 ms']).toMatchObject({ met: true, measured: '0.600 ms' });
  expect(byTarget["RSS per idle tunnel (1000) below every peer's"]).toMatchObject({ met: true });
  expect(byTarget['RSS per idle tunnel (1000) aim: 12 KiB']).toMatchObject({ met: true });
  expect(byTarget['8,000 concurrent tunnels, no errors']).toMatchObject({ met: true, measured: '8000 open, 0 errors' });
  expect(byTarget['>= 600 agents at the sizing profile']).toMatchObject({ met: true });
  expect(byTarget['agents aim: 2,000']).toMatchObject({ met: false });
});

test('text names skipped peers; HTML is self-contained', () => {
  const r = synthetic();
  expect(formatText(r)).toContain('skipped: tinyproxy — apt-get install tinyproxy failed');
  const html = renderBenchHtml(r);
  expect(html).toContain('<svg');
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/https?:\/\//);
});

test('simulator target: met only at <= 10 ms per cycle with every record ingested; the figure names the event loop, the gateway yardstick and the load average', () => {
  const sim = (cpuMsPerCycle: number, ok = true, extra: { agents?: number; processes?: number; overrunRounds?: number } = {}) => ({
    agents: 100, processes: 1, cycles: 500, cpuMs: cpuMsPerCycle * 500, cpuMsPerCycle, cyclesPerCpuSecond: 1000 / cpuMsPerCycle, ratioToTarget: cpuMsPerCycle / 10, kbPerCycle: 204,
    eventLoopMsPerCycle: 7.6, gatewayMsPerCycle: 3.1, loadavg1: 6.5, overrunRounds: 0, rounds: 5,
    records: { created: 1000, ingested: ok ? 1000 : 999, lost: ok ? 0 : 1, ok },
    ...extra,
  });
  const row = (s: ReturnType<typeof sim>) => checkTargets({ ...synthetic(), simulator: s }).find((c) => c.target.startsWith('simulator CPU'))!;
  expect(row(sim(9.5))).toMatchObject({ met: true, measured: expect.stringMatching(/^9\.5 ms at 100 agents in one process .*event loop 7\.6 ms; gateway 3\.1 ms per cycle as the machine's yardstick; rounds over their interval 0 of 5; load average 6\.5\)$/) });
  expect(row(sim(12)).met).toBe(false);
  expect(row(sim(9.5, false)).met).toBe(false);
  expect(checkTargets(synthetic()).find((c) => c.target.startsWith('simulator CPU'))!.met).toBeNull();
});

test('simulator at scale: the CPU target is judged on the 600-agent run, the one-process figure printed beside it; the rounds target needs 600 agents and no round over', () => {
  const base = { agents: 100, processes: 1, cycles: 500, cpuMs: 7000, cpuMsPerCycle: 14, cyclesPerCpuSecond: 71, ratioToTarget: 1.4, kbPerCycle: 204, loadavg1: 1, overrunRounds: 0, rounds: 5, records: { created: 10, ingested: 10, lost: 0, ok: true } };
  const scale = { ...base, agents: 600, processes: 2, cycles: 3600, cpuMsPerCycle: 9.9, ratioToTarget: 0.99, rounds: 6 };
  const targets = checkTargets({ ...synthetic(), simulator: base, simulatorAtScale: scale });
  const cpu = targets.find((c) => c.target.startsWith('simulator CPU'))!;
  expect(cpu.met).toBe(true);
  expect(cpu.measured).toMatch(/^9\.9 ms at 600 agents in 2 agent processes \+ the cloud's .*; 14 ms at 100 agents in one process /);
  const rounds = (s: typeof scale) => checkTargets({ ...synthetic(), simulatorAtScale: s }).find((c) => c.target.startsWith('simulator at the sizing scale'))!;
  expect(rounds(scale)).toMatchObject({ met: true, measured: '6 of 6 rounds within the interval at 600 agents in 2 agent processes (load average 1)' });
  expect(rounds({ ...scale, overrunRounds: 1 }).met).toBe(false);
  expect(rounds({ ...scale, agents: 300 }).met).toBe(false);
  expect(checkTargets(synthetic()).find((c) => c.target.startsWith('simulator at the sizing scale'))!.met).toBeNull();
});
