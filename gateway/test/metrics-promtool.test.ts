/**
 * GET /metrics passes Prometheus' own checker (`promtool check metrics`, Debian package `prometheus`,
 * installed by .ci/run) with no findings, after traffic that moves every family: a tunnel (latency
 * histogram, bytes), a forbidden host (rejections) and an unreachable upstream (errors).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../index.js';
import { closedPort, connectRequest, eventually, rawRequest, startTcpEcho, tempDir, type TestServer } from './support.js';

const PROMTOOL = '/usr/bin/promtool';
let echo: TestServer;
let work: ReturnType<typeof tempDir>;
let gw: Gateway;

beforeAll(async () => {
  echo = await startTcpEcho();
  work = tempDir();
  const allowlistFile = join(work.dir, 'allowedlist_server.txt');
  writeFileSync(allowlistFile, 'a.example.test\ndown.example.test\n');
  const down = await closedPort();
  gw = createGateway({
    listenPort: 0,
    adminPort: 0,
    allowlistFile,
    hostMap: [`a.example.test=127.0.0.1:${echo.port}`, `down.example.test=127.0.0.1:${down}`],
    tlsInspection: false,
  });
  await gw.start();
});
afterAll(async () => {
  await gw.close();
  await echo.close();
  work.cleanup();
});

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${PROMTOOL} (Debian package "prometheus"): ${r.error.message}`);
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

test('promtool finds nothing to say about /metrics after tunnels, rejections and errors', async () => {
  const port = gw.proxyAddress.port;
  const ok = await rawRequest(port, connectRequest('a.example.test:443'));
  expect(ok.head).toMatch(/^HTTP\/1\.1 200/);
  ok.socket.destroy();
  (await rawRequest(port, connectRequest('evil.test:443'))).socket.destroy();
  (await rawRequest(port, connectRequest('down.example.test:443'))).socket.destroy();
  await eventually(() => gw.counters.snapshot().errorCount === 1 && gw.counters.snapshot().rejectionCount === 1, 'one rejection and one error counted');

  const res = await fetch(`http://127.0.0.1:${gw.adminAddress!.port}/metrics`);
  const text = await res.text();
  expect(text).toMatch(/^oms_gateway_rejections_total 1$/m);
  expect(text).toMatch(/^oms_gateway_errors_total 1$/m);
  expect(text).toMatch(/^# TYPE oms_gateway_rejections_total counter$/m);
  expect(text).toMatch(/^# HELP oms_gateway_rejections_total .*"Rejection Count"/m);
  expect(text).toMatch(/^# HELP oms_gateway_errors_total .*"Error Count"/m);
  expect(text).toMatch(/^oms_gateway_upstream_connect_seconds_count 1$/m);
  expect(promtool(text)).toEqual({ status: 0, output: '' });
});

test('positive control: promtool does flag a gauge named _count (the old exposition)', () => {
  const old = '# HELP oms_gateway_rejection_count Rejection Count\n# TYPE oms_gateway_rejection_count gauge\noms_gateway_rejection_count 1\n';
  const r = promtool(old);
  expect(r.status).not.toBe(0);
  expect(r.output).toContain('oms_gateway_rejection_count non-histogram and non-summary metrics should not have "_count" suffix');
});
