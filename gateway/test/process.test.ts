/** The gateway as a child process (dist/cli/omsgw.js): readiness, signals, bad config, manual clock, CLI. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { spawnGateway, GatewayStartError, type GatewayProcess } from '../process.js';
import { connectRequest, eventually, gatewayProcessesPerTest, rawRequest, startTcpEcho, type TestServer } from './support.js';
import { omsgw as cli } from './cli-support.js';

const gateways = gatewayProcessesPerTest();
let echo: TestServer;

beforeAll(async () => {
  echo = await startTcpEcho();
});
afterAll(() => echo.close());

function omsgw(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const spawn = (args: string[]): Promise<GatewayProcess> => gateways.spawn(args);

async function events(child: GatewayProcess, query = ''): Promise<Array<{ id: number; message: string }>> {
  const res = await fetch(`${child.adminUrl}/api/events${query}`);
  return ((await res.json()) as { events: Array<{ id: number; message: string }> }).events;
}

test('init folder, run, forbidden then allowed after allowlist add + reload, SIGTERM gives 102 and exit 0', async () => {
  const dir = join(gateways.dir, 'gw');
  await cli('gateway', 'init', '--workspace', 'ws1', '--dir', dir);
  const text = readFileSync(join(dir, 'allowedlist_server.txt'), 'utf8');
  expect(text).toContain('\nws1.oms.opinsights.azure.com\nws1.ods.opinsights.azure.com\nws1.blob.core.windows.net\n');
  expect(text).not.toMatch(/^scus-agentservice-prod-1\.azure-automation\.net$/m);
  expect(text).toMatch(/exactly the 2016 Linux agent bug/);

  const hostMap = `*.azure-automation.net=127.0.0.1:${echo.port}`;
  const child = await spawn(['--dir', dir, '--host-map', hostMap, '--no-tls-inspection']);
  expect(child.proxyPort).toBeGreaterThan(0);
  const target = 'scus-agentservice-prod-1.azure-automation.net:443';
  const refused = await rawRequest(child.proxyPort, connectRequest(target));
  expect(refused.status).toBe(403);
  refused.socket.destroy();
  expect((await events(child, '?id=103,105')).map((e) => e.id)).toEqual([103, 105]);

  expect(await cli('allowlist', 'add', 'scus-agentservice-prod-1.azure-automation.net', '--dir', dir)).toMatch(/added .* restart/);
  // a file edit alone changes nothing until a reload or restart
  expect((await rawRequest(child.proxyPort, connectRequest(target))).status).toBe(403);
  expect(await cli('gateway', 'reload', '--admin', child.adminUrl!)).toMatch(/server allowlist added: scus-agentservice-prod-1\.azure-automation\.net/);
  const ok = await rawRequest(child.proxyPort, connectRequest(target));
  expect(ok.status).toBe(200);
  ok.socket.destroy();

  expect(JSON.parse(await cli('counters', '--admin', child.adminUrl!, '--json'))).toMatchObject({ rejectionCount: 2, tunnelsTotal: 1 });
  expect(await cli('events', '--admin', child.adminUrl!, '--id', '105')).toMatch(/105  Target host \(scus-agentservice-prod-1\.azure-automation\.net\) is forbidden/);

  gateways.release(child);
  const exit = await child.stop();
  expect(exit).toEqual({ code: 0, signal: null });
  expect(child.output().stdout).toMatch(/  102  Service stopped/);
});

test('bad config: event 401, a message naming the key, exit code 2, nothing started', async () => {
  const config = join(gateways.dir, 'gateway.json');
  writeFileSync(config, JSON.stringify({ listenPort: 'text', allowlist: ['a.example.test'] }));
  const err = await spawnGateway(['--config', config]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayStartError);
  const e = err as GatewayStartError;
  expect(e.code).toBe(2);
  expect(e.stdout).toMatch(/  401  Bad configuration: .*gateway\.json: "listenPort" must be a port number \(integer\) from 0 to 65535, got "text"/);
  expect(e.stderr).toMatch(/"listenPort" must be a port number/);
  expect(e.stdout).not.toMatch(/omsgw-gateway-ready/);

  writeFileSync(config, JSON.stringify({ listenPrt: 8080 }));
  const unknown = omsgw(['gateway', '--config', config]);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/"listenPrt" is not a known setting/);

  const badFlag = omsgw(['gateway', '--listen-port', 'text', '--allow-host', 'a.example.test']);
  expect(badFlag.status).toBe(2);
  expect(badFlag.stderr).toMatch(/--listen-port must be an integer from 0 to 65535, got "text"/);
});

test('--clock manual: POST /api/clock/advance crosses midnight in the child; the daily counter resets then', async () => {
  const child = await spawn(['--allow-host', 'a.example.test', '--host-map', `a.example.test=127.0.0.1:${echo.port}`, '--no-tls-inspection', '--clock', 'manual=2016-03-01T23:59:00Z']);
  for (const localAddress of ['127.0.0.41', '127.0.0.42']) {
    const r = await rawRequest(child.proxyPort, connectRequest('a.example.test:443'), { localAddress });
    expect(r.status).toBe(200);
    r.socket.destroy();
  }
  const counters = async () => (await (await fetch(`${child.adminUrl}/api/counters`)).json()) as { connectedClients: number; activeClientConnections: number };
  await eventually(async () => (await counters()).activeClientConnections === 0, 'connections closed');
  const advance = (body: unknown) => fetch(`${child.adminUrl}/api/clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await advance({ ms: 59_999 });
  expect((await counters()).connectedClients).toBe(2);
  expect(await (await advance({ to: '2016-03-02T00:00:00Z' })).json()).toEqual({ now: '2016-03-02T00:00:00.000Z' });
  expect((await counters()).connectedClients).toBe(0);
});

test('SIGHUP re-reads the allowlist file; --event-log gets every event as JSON lines', async () => {
  const allowlist = join(gateways.dir, 'allowedlist_server.txt');
  const eventLog = join(gateways.dir, 'events.jsonl');
  writeFileSync(allowlist, 'a.example.test\n');
  const child = await spawn(['--allowlist', allowlist, '--event-log', eventLog, '--quiet', '--host-map', `*.example.test=127.0.0.1:${echo.port}`, '--no-tls-inspection']);
  writeFileSync(allowlist, 'a.example.test\nb.example.test\n');
  child.kill('SIGHUP');
  await eventually(async () => (await events(child, '?id=100')).some((e) => /SIGHUP.*b\.example\.test/.test(e.message)), 'SIGHUP reload');
  const ok = await rawRequest(child.proxyPort, connectRequest('b.example.test:443'));
  expect(ok.status).toBe(200);
  ok.socket.destroy();
  gateways.release(child);
  expect((await child.stop()).code).toBe(0);
  expect(child.output().stdout).not.toMatch(/  103  /); // --quiet
  const lines = readFileSync(eventLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; seq: number });
  expect(lines.map((l) => l.id)).toEqual([101, 100, 103, 102]);
  expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
  expect(await cli('events', '--file', eventLog, '--id', '103')).toMatch(/103  Got request from 127\.0\.0\.1:\d+: CONNECT b\.example\.test:443/);
});
