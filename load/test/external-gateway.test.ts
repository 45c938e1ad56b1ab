/**
 * `omsgw load --gateway` against a real CONNECT proxy we did not write (Debian's tinyproxy,
 * installed by .ci/run), without --admin: the verdict covers what was measured and says the
 * counters were not compared.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, waitForPort } from '../../harness/free-port.js';
import { formatLoadReport } from '../report/text.js';
import { runLoad } from '../runner.js';
import { loadOptions } from './helpers.js';

const TINYPROXY = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find((p) => existsSync(p));

let dir: string;
let proxy: ChildProcess | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-load-ext-'));
});
afterAll(() => {
  proxy?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('agents through tinyproxy (upstream = the fake cloud on --target-port), no --admin: records all ingested, ok, counters listed as not compared', async () => {
  if (!TINYPROXY) throw new Error('tinyproxy is not installed: .ci/run installs it (apt-get install tinyproxy)');
  const [proxyPort, cloudPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const conf = join(dir, 'tinyproxy.conf');
  // Every CONNECT goes to the fake cloud, which is itself a CONNECT proxy for its hosts (no DNS needed).
  writeFileSync(conf, [`Port ${proxyPort}`, 'Listen 127.0.0.1', 'Timeout 60', 'MaxClients 200', 'Allow 127.0.0.0/8', 'ConnectPort 443', `Upstream http 127.0.0.1:${cloudPort}`, 'LogLevel Warning', ''].join('\n'));
  proxy = spawn(TINYPROXY, ['-d', '-c', conf], { stdio: 'ignore' });
  await waitForPort(proxyPort, 10_000, () => proxy!.exitCode === null);
  const report = await runLoad(loadOptions({ count: 4, durationMs: 1000, concurrency: 4, kbPerUpload: 20, speed: 30, seed: 'external', gateway: { host: '127.0.0.1', port: proxyPort }, targetPort: cloudPort }));
  expect(report.gateway.kind).toBe('external');
  expect(report.accuracy).toBeNull();
  // First what failed, in words (errors by kind included), so a failure here says why.
  expect({ verdict: report.verdict, errors: report.errorsByKind }).toEqual({ verdict: [], errors: {} });
  expect(report.agents!.onboarded).toBe(4);
  expect(report.checks.map((c) => [c.what, c.ok])).toEqual([
    ['records', true],
    ['unexpected errors', true],
    ['latency', true],
  ]);
  expect(report.throughput.recordsIngested).toBeGreaterThan(0);
  expect(report.notChecked).toEqual(['counters not compared: no management API (--admin) for this gateway']);
  expect(report.verdict).toEqual([]);
  expect(report.ok).toBe(true);
  const text = formatLoadReport(report);
  expect(text).toMatch(/^not checked: counters not compared/m);
  expect(text).toMatch(/^RESULT: ok — nothing lost: \d+ created, \d+ ingested, no unexpected errors, latency measured over \d+ requests; counters not compared/m);
});
