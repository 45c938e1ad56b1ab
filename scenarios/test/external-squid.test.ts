import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { freeLoopbackPort as freePort } from '../../harness/free-port.js';
import { startSquid, type SquidProcess } from '../../conformance/squid-process.js';
import { resolveScenario } from '../runner/catalogue.js';
import { scenarioAllowlist } from '../runner/external.js';
import { SquidAccessLog, squidLineToEvents } from '../runner/gateway-log/squid.js';
import { loadScenarioFile } from '../runner/load.js';
import { realParts } from '../runner/parts.js';
import { runScenario, type ScenarioResult } from '../runner/runner.js';

jest.setTimeout(120_000);

/** The catalogue scenarios that make sense for any proxy (no own-gateway-only story). */
const ANY_PROXY = ['windows-happy-path', 'non-443-port', 'non-connect-104'];

function statuses(r: ScenarioResult): string[] {
  return r.steps.map((s) => `${s.do}:${s.status}`);
}

describe('scenarios against an external proxy: a real squid', () => {
  let squid: SquidProcess | undefined;
  let cloudPort = 0;

  beforeAll(async () => {
    cloudPort = await freePort();
    // squid probes its parent when it starts and holds a dead one for dead (answering 500): keep
    // the cloud's port answering until the scenarios' own cloud binds it.
    const placeholder = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => placeholder.listen(cloudPort, '127.0.0.1', r));
    try {
      const scenarios = ANY_PROXY.map((n) => loadScenarioFile(resolveScenario(n)));
      squid = await startSquid({ parentPort: cloudPort, allowlist: scenarioAllowlist(scenarios) });
    } finally {
      await new Promise((r) => placeholder.close(r));
    }
  });

  afterAll(async () => {
    await squid?.stop();
  });

  const run = (name: string) =>
    runScenario(loadScenarioFile(resolveScenario(name)), {
      parts: realParts,
      external: { host: '127.0.0.1', port: squid!.port, cloudPort, gatewayLog: new SquidAccessLog(squid!.accessLog) },
    });

  test('windows-happy-path passes through squid on what can be checked (records ingested, agents onboarded); its event expectations (107) and counters are not verified', async () => {
    const r = await run('windows-happy-path');
    expect(r.steps.filter((s) => s.status === 'failed').map((s) => `${s.do}: ${s.summary} ${(s.details ?? []).join('; ')}`)).toEqual([]);
    expect(r.verdict).toBe('passed');
    expect(statuses(r)).toEqual(expect.arrayContaining(['expect.ledger:passed', 'expect.agents:passed', 'expect.counters:not-verified']));
    const events = r.steps.filter((s) => s.do === 'expect.events');
    expect(events.map((s) => s.status)).toEqual(['not-verified', 'not-verified']);
    expect(events[0].summary).toMatch(/cannot show event 107/);
    expect(r.events.filter((e) => e.id === 103).length).toBeGreaterThan(0);
    expect(r.events.every((e) => e.message.includes('[squid access.log:'))).toBe(true);
  });

  test('non-443-port: squid refuses port 80 (403) and tunnels 443; the outcome-level expectation runs on squid\'s access log and passes', async () => {
    const r = await run('non-443-port');
    expect(r.verdict).toBe('passed');
    expect(statuses(r)).toEqual(['cloud.start:passed', 'gateway.start:skipped', 'probe.connect:passed', 'probe.connect:passed', 'expect.events:not-verified', 'expect.events:passed', 'expect.counters:not-verified']);
  });

  test('non-connect-104 fails against squid for a real reason: squid serves a plain GET, so its log shows no refusal (104)', async () => {
    const r = await run('non-connect-104');
    expect(r.verdict).toBe('failed');
    const failedEvents = r.steps.filter((s) => s.do === 'expect.events' && s.status === 'failed');
    expect(failedEvents.length).toBeGreaterThan(0);
  });

  test('a scenario resting only on unverified expectations is NOT VERIFIED (exit 3), never passed; the squid snippet is printed first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omsgw-ext-'));
    try {
      const file = join(dir, 'tls-only.yaml');
      writeFileSync(file, [
        'name: tls-only',
        'title: only TLS-level expectations',
        'workspaces:',
        '  - id: 7a3c2f10-4b1e-4d7a-9c55-2f0e8b6d1a42',
        'steps:',
        '  - do: cloud.start',
        '  - do: probe.connect',
        '    as: p',
        '    target: 7a3c2f10-4b1e-4d7a-9c55-2f0e8b6d1a42.oms.opinsights.azure.com:443',
        '    expectStatus: 200',
        '  - do: expect.events',
        '    client: p',
        '    sequence: [103, 107]',
        '    within: 2s',
        '  - do: expect.counters',
        '    counters:',
        '      rejectionCount: 0',
        '',
      ].join('\n'));
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [join(packageRoot(), 'dist', 'cli', 'omsgw.js'), 'scenario', 'run', file, '--gateway', `127.0.0.1:${squid!.port}`, '--cloud-port', String(cloudPort), '--gateway-log', `squid:${squid!.accessLog}`], { timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
        ),
      );
      expect(r.stderr).toMatch(new RegExp(`cache_peer 127\\.0\\.0\\.1 parent ${cloudPort} 0 no-query`));
      expect(r.stdout).toMatch(/NOT VERIFIED tls-only/);
      expect(r.code).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('external proxy input', () => {
  test('squid access-log lines become outcome events; served non-CONNECT requests and transaction errors become nothing', () => {
    let n = 0;
    const seq = () => ++n;
    expect(squidLineToEvents('1796137747.640 0 127.0.11.1 TCP_DENIED/403 3521 CONNECT h.example:80 - HIER_NONE/- text/html', seq).map((e) => e.id)).toEqual([103, 105]);
    expect(squidLineToEvents('1796137747.640 12 127.0.11.1 TCP_TUNNEL/200 4000 CONNECT h.example:443 - FIRSTUP_PARENT/127.0.0.1 -', seq).map((e) => e.id)).toEqual([103]);
    expect(squidLineToEvents('1796137747.640 1 127.0.11.1 TCP_MISS/405 100 GET http://h.example/ - FIRSTUP_PARENT/127.0.0.1 -', seq)).toEqual([]);
    expect(squidLineToEvents('1796137747.640 1 127.0.11.1 TCP_DENIED/403 100 GET http://h.example/ - HIER_NONE/- -', seq).map((e) => e.id)).toEqual([104]);
    expect(squidLineToEvents('1796137747.640 1 127.0.11.1 TCP_TUNNEL/503 100 CONNECT h.example:443 - HIER_NONE/- -', seq).map((e) => e.id)).toEqual([103, 403]);
    expect(squidLineToEvents('1796137737.037 0 127.0.0.1 NONE_NONE/000 0 - error:transaction-end-before-headers - HIER_NONE/- -', seq)).toEqual([]);
  });

  test('an unreachable --gateway, a bad --gateway-log and --cloud-port without --gateway exit 2 with a clear message', async () => {
    const omsgw = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile(process.execPath, [join(packageRoot(), 'dist', 'cli', 'omsgw.js'), 'scenario', 'run', 'non-443-port', ...args], { timeout: 30_000 }, (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr })),
      );
    const closed = await freePort();
    const a = await omsgw(['--gateway', `127.0.0.1:${closed}`, '--cloud-port', '9555']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(new RegExp(`cannot reach --gateway 127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`));
    const b = await omsgw(['--gateway', `127.0.0.1:${closed}`, '--gateway-log', 'apache:/x']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--gateway-log must be squid:<path to access\.log>/);
    const c = await omsgw(['--cloud-port', '9555']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--cloud-port and --gateway-log are for an external proxy/);
  });
});
