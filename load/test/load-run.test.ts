import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledClock } from '../../lib/clock.js';
import { runLoad, type LoadReport } from '../runner.js';
import { renderLoadHtml } from '../report/html.js';
import { loadOptions, runOmsgw } from './helpers.js';

// Child-process tests: run `npx tsc -p tsconfig.build.json` first (the gateway, upstream and driver run from dist/).

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-load-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runCli = (args: string[]) => runOmsgw(args, { timeoutMs: 90_000 });

test('omsgw load, agents profile: a few Windows and Linux agents, expected rejections and errors, exit 0 and an exact accuracy table', async () => {
  const json = join(dir, 'agents.json');
  const html = join(dir, 'agents.html');
  // speed 30: the 6 s sizing interval lasts 200 ms of real time.
  const r = await runCli(['load', '--agents', '4', '--duration', '1s', '--speed', '30', '--kb-per-upload', '20', '--forbidden-rate', '10', '--error-rate', '5', '--http-refusals', '200', '--json', json, '--report', html, '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.stdout.split('\n').filter((l) => /^(RESULT|FAILED|errors)/.test(l))).toEqual(['errors: none', expect.stringMatching(/^RESULT: ok/)]);
  expect(r.code).toBe(0);
  const report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
  expect(report.ok).toBe(true);
  expect(report.agents).toMatchObject({ count: 4, onboarded: 4, byOs: { windows: 2, linux: 2 } });
  const rows = Object.fromEntries(report.accuracy!.rows.map((x) => [x.counter, x]));
  // 4 agents + one source address for each kind of probe + autocannon's 127.0.0.1.
  expect(rows['Connected Client']).toMatchObject({ gateway: 7, truth: 7, quiescentDeviations: 0 });
  // A CONNECT-only gateway refuses plain HTTP with 405 (event 104, which counts neither as rejection nor error).
  expect(report.httpRefusals!.responses).toBeGreaterThan(0);
  expect(report.httpRefusals).toMatchObject({ byStatus: { '405': report.httpRefusals!.responses }, errors: 0 });
  expect(rows['Active Client Connection']).toMatchObject({ gateway: 0, truth: 0, quiescentDeviations: 0 });
  expect(rows['Rejection Count'].gateway).toBe(report.probes.rejectionsCaused);
  expect(rows['Rejection Count'].gateway).toBeGreaterThan(0);
  expect(rows['Error Count'].gateway).toBe(report.probes.errorsCaused);
  expect(rows['Error Count'].gateway).toBeGreaterThan(0);
  expect(report.accuracy!.records).toMatchObject({ lost: 0, dropped: 0, queued: 0, ok: true });
  expect(report.accuracy!.records!.created).toBeGreaterThan(0);
  expect(report.accuracy!.records!.ingested).toBe(report.accuracy!.records!.created);
  expect(report.timeline.filter((p) => p.quiescent).length).toBeGreaterThanOrEqual(3);
  // The asked rates over the asked duration, counted: 10/s and 5/s for 1 s (probes run between upload rounds too).
  expect(report.probes).toMatchObject({ forbiddenSent: 10, rejectionsCaused: 10, errorProbesSent: 5, errorsCaused: 5 });
  // --duration is honoured: the load ran at least 1 s (it used to stop a round early).
  expect(report.throughput.loadMs).toBeGreaterThanOrEqual(1000);
  expect(report.latencyUnit).toBe('µs');
  expect(report.latency.p99).toBeLessThanOrEqual(report.latency.max);
  expect(report.notChecked).toEqual([]);
  expect(report.checks.map((c) => [c.what, c.ok])).toEqual([
    ['records', true],
    ['unexpected errors', true],
    ['latency', true],
    ['counters', true],
  ]);
  expect(readFileSync(html, 'utf8')).toContain('<svg');
});

test('idle profile through the tunnel driver: Active Client Connection equals the open tunnels while they are held', async () => {
  const report = await runLoad(loadOptions({ profile: 'idle', count: 30, durationMs: 1500, concurrency: 10, clock: new ScaledClock(1) }));
  expect(report.verdict).toEqual([]);
  expect(report.ok).toBe(true);
  const held = report.timeline.find((p) => p.label === 'all tunnels open')!;
  expect(held.quiescent).toBe(true);
  expect(held.truth.openConnections).toBe(30);
  expect(held.gateway!.activeClientConnections).toBe(30);
  expect(held.gateway!.connectedClients).toBe(30);
  const end = report.timeline[report.timeline.length - 1];
  expect(end.gateway!.activeClientConnections).toBe(0);
});

test('the HTML report is self-contained: inline SVG, no scripts, no http(s) resources', () => {
  const report: LoadReport = {
    version: 1,
    profile: 'agents',
    startedAt: new Date(0).toISOString(),
    durationMs: 2000,
    options: {} as LoadReport['options'],
    gateway: { kind: 'omsgw', proxy: { host: '127.0.0.1', port: 1 } },
    throughput: { requests: 3, loadMs: 2000, requestsPerSec: 1.5 },
    latency: { count: 3, p50: 1000, p90: 2000, p99: 3000, max: 3000, mean: 1500 },
    latencyUnit: 'µs',
    latencyMeasures: 'x',
    errorsByKind: { 'agent_<script>': 1 },
    unexpectedErrors: 1,
    probes: { forbiddenSent: 1, rejectionsCaused: 1, errorProbesSent: 0, errorsCaused: 0, unexpected: {} },
    timeline: [
      { t: 0, quiescent: true, truth: { openConnections: 0, distinctSources: 0, rejectionsCaused: 0, errorsCaused: 0 }, gateway: { activeClientConnections: 0, connectedClients: 0, rejectionCount: 0, errorCount: 0 }, requestsPerSec: 0, p99Us: 0, errors: 0 },
      { t: 1000, quiescent: false, truth: { openConnections: 3, distinctSources: 3, rejectionsCaused: 1, errorsCaused: 0 }, gateway: { activeClientConnections: 3, connectedClients: 3, rejectionCount: 1, errorCount: 0 }, requestsPerSec: 3, p99Us: 3000, errors: 1 },
    ],
    accuracy: null,
    checks: [{ what: 'unexpected errors', ok: false, detail: '1 unexpected error(s)' }],
    ok: false,
    verdict: ['1 unexpected error(s)'],
    notChecked: [],
  };
  const html = renderLoadHtml(report);
  expect(html).toMatch(/^<!doctype html>/);
  expect((html.match(/<svg/g) ?? []).length).toBe(5);
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).toContain('agent_&lt;script&gt;');
});

test.each([
  [['load', '--gateway', '10.1.2.3:3128'], /loopback/],
  [['load', '--duration', 'soon'], /--duration must be a duration like 30s/],
  [['load', '--profile', 'stampede'], /--profile must be one of agents, churn, keepalive, idle/],
  [['load', '--mix', 'macos=1'], /--mix must look like windows=1,linux=1/],
  [['bench', '--peers', 'varnish', '--no-install'], /unknown peer "varnish"/],
  // Flags the chosen run would ignore are refused, not silently dropped.
  [['load', '--profile', 'churn', '--agents', '500'], /--agents has no effect with --profile churn \(agents profile only; use --connections\)/],
  [['load', '--profile', 'idle', '--kb-per-upload', '50', '--mix', 'linux=1'], /--kb-per-upload, --mix have no effect with --profile idle/],
  [['load', '--connections', '10'], /--connections has no effect with the agents profile \(use --agents\)/],
  [['load', '--admin', 'http://127.0.0.1:8081'], /--admin has no effect without --gateway/],
  [['load', '--soak-rate', '10'], /--soak-rate has no effect without --soak/],
  // Report paths are checked before the run, not after it.
  [['load', '--json', '/nonexistent-omsgw-dir/load.json'], /--json: the folder \/nonexistent-omsgw-dir does not exist/],
  [['load', '--report', tmpdir()], /--report must be a file name, but .* is a folder/],
  [['load', '--soak', '10s', '--json', '/nonexistent-omsgw-dir/soak.json'], /--json: the folder \/nonexistent-omsgw-dir does not exist/],
])('bad input %j → exit 2 with a message saying what to fix', async (args, message) => {
  const r = await runCli(args as string[]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message as RegExp);
});

test('--gateway: any CONNECT proxy can be loaded (here the naive proxy routing to --target-port); without --admin no counters are compared', async () => {
  const { NaiveConnectProxy } = await import('../../bench/peers/naive-proxy.js');
  const { freeLoopbackPort } = await import('../../harness/free-port.js');
  const { FORBIDDEN_HOST } = await import('../runner.js');
  const targetPort = await freeLoopbackPort();
  const proxy = new NaiveConnectProxy({ host: '127.0.0.1', port: targetPort }, [FORBIDDEN_HOST]);
  await proxy.start();
  try {
    const report = await runLoad(loadOptions({ profile: 'keepalive', count: 4, durationMs: 800, concurrency: 4, forbiddenRate: 10, gateway: { host: '127.0.0.1', port: proxy.port }, targetPort }));
    expect(report.gateway.kind).toBe('external');
    expect(report.accuracy).toBeNull();
    expect(report.verdict).toEqual([]);
    expect(report.notChecked).toEqual(['counters not compared: no management API (--admin) for this gateway']);
    expect(report.throughput.requests).toBeGreaterThan(0);
    expect(report.driver!.tunnelsEstablished).toBe(4);
    expect(report.probes.rejectionsCaused).toBe(report.probes.forbiddenSent);
    expect(report.ok).toBe(true);
  } finally {
    await proxy.close();
  }
});

describe('omsgw load --soak (reliability/soak.ts behind the load command)', () => {
  test.each([
    [['load', '--soak', '5s'], /soak duration must be at least 10s/],
    [['load', '--soak', 'ten minutes'], /--soak must be a duration like 30s/],
    [['load', '--soak', '10s', '--gateway', '127.0.0.1:3128'], /--soak measures a gateway process it starts itself/],
    [['load', '--soak', '10s', '--soak-rate', 'fast'], /--soak-rate must be a number/],
    [['load', '--soak', '10s', '--agents', '600', '--duration', '1m'], /--agents, --duration have no effect with --soak/],
  ])('bad soak flags exit 2: %j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('a 10 s soak runs churn through a gateway child, prints the verdict and exits by it', async () => {
    const json = join(dir, 'soak.json');
    const r = await runCli(['load', '--soak', '10s', '--soak-rate', '20', '--json', json, '--quiet']);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { summary: string; verdict: { flat: boolean }; load: { completed: number; errors: number }; samples: unknown[] };
    expect(report.load.completed).toBeGreaterThan(50);
    expect(report.samples.length).toBeGreaterThan(5);
    expect(r.stdout.trim()).toBe(report.summary);
    expect(r.stdout).toMatch(/^soak 10 s, \d+ tunnels at 20\/s/);
    expect(r.code).toBe(report.verdict.flat && report.load.errors === 0 ? 0 : 1);
  });
});
