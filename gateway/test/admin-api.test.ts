/** The management API against a real in-process gateway. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import { createGateway, type Gateway } from '../index.js';
import { connectRequest, eventually, rawRequest, startTcpEcho, tempDir, type TestServer } from './support.js';

let echo: TestServer;
let work: ReturnType<typeof tempDir>;
const gateways: Gateway[] = [];

beforeAll(async () => {
  echo = await startTcpEcho();
});
beforeEach(() => {
  work = tempDir();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  work.cleanup();
});
afterAll(() => echo.close());

async function start(opts: Parameters<typeof createGateway>[0] = {}): Promise<{ gw: Gateway; api: string }> {
  const allowlistFile = join(work.dir, 'allowedlist_server.txt');
  writeFileSync(allowlistFile, '# lab\na.example.test\n');
  const gw = createGateway({ listenPort: 0, adminPort: 0, allowlistFile, hostMap: [`*.example.test=127.0.0.1:${echo.port}`], tlsInspection: false, ...opts });
  await gw.start();
  gateways.push(gw);
  return { gw, api: `http://127.0.0.1:${gw.adminAddress!.port}` };
}

async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(url, { ...init, body: init.json !== undefined ? JSON.stringify(init.json) : init.body, headers: { ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

test('healthz, counters and metrics with the oms_gateway_* names', async () => {
  const { gw, api } = await start();
  const r = await rawRequest(gw.proxyAddress.port, connectRequest('evil.test:443'));
  r.socket.destroy();
  expect((await call(`${api}/healthz`)).body).toMatchObject({ status: 'ok' });
  const counters = (await call(`${api}/api/counters`)).body;
  expect(counters).toMatchObject({ activeClientConnections: expect.any(Number), connectedClients: 1, connectedClientsWindow: 1, rejectionCount: 1, errorCount: 0, tunnelsTotal: 0 });
  const metrics = await call(`${api}/metrics`);
  expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
  for (const name of ['oms_gateway_active_client_connections', 'oms_gateway_connected_clients', 'oms_gateway_connected_clients_window', 'oms_gateway_rejections_total', 'oms_gateway_errors_total', 'oms_gateway_tunnels_total', 'oms_gateway_bytes_in_total', 'oms_gateway_bytes_out_total', 'oms_gateway_upstream_connect_seconds_bucket', 'oms_gateway_events_total']) {
    expect(metrics.text).toMatch(new RegExp(`^${name}`, 'm'));
  }
  expect(metrics.text).toMatch(/^oms_gateway_rejections_total 1$/m);
  expect(metrics.text).toMatch(/^oms_gateway_events_total\{id="105",level="warning"\} 1$/m);
});

test('two gateways in one process keep separate metrics', async () => {
  const a = await start();
  const b = await start();
  (await rawRequest(a.gw.proxyAddress.port, connectRequest('evil.test:443'))).socket.destroy();
  expect((await call(`${a.api}/metrics`)).text).toMatch(/^oms_gateway_rejections_total 1$/m);
  expect((await call(`${b.api}/metrics`)).text).toMatch(/^oms_gateway_rejections_total 0$/m);
});

test('events: since and id filters, bad filters', async () => {
  const { gw, api } = await start();
  (await rawRequest(gw.proxyAddress.port, connectRequest('evil.test:443'))).socket.destroy();
  (await rawRequest(gw.proxyAddress.port, 'GET / HTTP/1.1\r\n\r\n')).socket.destroy();
  const all = (await call(`${api}/api/events`)).body.events;
  expect(all.map((e: any) => e.id)).toEqual([101, 103, 105, 104]);
  expect(all.map((e: any) => e.seq)).toEqual([1, 2, 3, 4]);
  expect((await call(`${api}/api/events?id=103,105`)).body.events.map((e: any) => e.id)).toEqual([103, 105]);
  expect((await call(`${api}/api/events?id=105&id=104`)).body.events.map((e: any) => e.id)).toEqual([105, 104]);
  expect((await call(`${api}/api/events?since=2`)).body.events.map((e: any) => e.seq)).toEqual([3, 4]);
  const e105 = (await call(`${api}/api/events?id=105`)).body.events[0];
  expect(e105).toMatchObject({ id: 105, level: 'warning', message: 'Target host (evil.test) is forbidden', clientIp: '127.0.0.1', target: 'evil.test:443', connectionId: expect.any(Number), time: expect.stringMatching(/Z$/) });
  expect((await call(`${api}/api/events?since=abc`)).status).toBe(400);
  expect((await call(`${api}/api/events?id=1x`)).body.error).toMatch(/id must be event ids/);
});

test('SSE stream delivers new events and is closed by close()', async () => {
  const { gw, api } = await start();
  const res = await fetch(`${api}/api/events/stream?id=105`);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  (await rawRequest(gw.proxyAddress.port, connectRequest('evil.test:443'))).socket.destroy();
  let text = '';
  while (!text.includes('"id":105')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  expect(text).toMatch(/event: gateway-event\ndata: \{.*"id":105/);
  expect(text).not.toMatch(/"id":103/);
  await gw.close();
  // the stream ends when the gateway closes
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
  }
});

test('allowlist CRUD is applied live and written to the allowlist file', async () => {
  const { gw, api } = await start();
  const file = join(work.dir, 'allowedlist_server.txt');
  expect((await call(`${api}/api/allowlist/hosts`)).body).toEqual({ hosts: ['a.example.test'] });
  expect((await rawRequest(gw.proxyAddress.port, connectRequest('b.example.test:443'))).status).toBe(403);
  const added = await call(`${api}/api/allowlist/hosts`, { method: 'POST', json: { host: 'B.example.test' } });
  expect(added.body).toMatchObject({ hosts: ['a.example.test', 'b.example.test'], changed: ['b.example.test'], persisted: true });
  expect(readFileSync(file, 'utf8')).toBe('# lab\na.example.test\nb.example.test\n');
  const ok = await rawRequest(gw.proxyAddress.port, connectRequest('b.example.test:443'));
  expect(ok.status).toBe(200);
  ok.socket.destroy();
  expect((await call(`${api}/api/allowlist/hosts/b.example.test`, { method: 'DELETE' })).body.hosts).toEqual(['a.example.test']);
  expect(readFileSync(file, 'utf8')).toBe('# lab\na.example.test\n');
  expect((await call(`${api}/api/allowlist/hosts`, { method: 'POST', json: { host: 'bad host' } })).status).toBe(400);
  expect((await call(`${api}/api/allowlist/hosts`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } })).body.error).toMatch(/not valid JSON/);
  expect(gw.events.list({ ids: [100] }).map((e) => e.message).join('\n')).toMatch(/added b\.example\.test[\s\S]*removed b\.example\.test/);
});

test('client certificate subjects CRUD', async () => {
  const { api } = await start();
  expect((await call(`${api}/api/allowlist/client-certificates`)).body).toEqual({ subjects: [] });
  const r = await call(`${api}/api/allowlist/client-certificates`, { method: 'POST', json: { subject: 'CN=ws1, OU=Linux Monitoring Agent, O=Microsoft' } });
  expect(r.body).toMatchObject({ subjects: ['CN=ws1, OU=Linux Monitoring Agent, O=Microsoft'], persisted: false });
  expect((await call(`${api}/api/allowlist/client-certificates`, { method: 'DELETE', json: { subject: 'CN=ws1, OU=Linux Monitoring Agent, O=Microsoft' } })).body.subjects).toEqual([]);
  expect((await call(`${api}/api/allowlist/client-certificates`, { method: 'POST', json: { subject: 'not a dn' } })).status).toBe(400);
});

test('reload re-reads the allowlist file and logs 100 with what changed; file edits alone wait for it', async () => {
  const { gw, api } = await start();
  writeFileSync(join(work.dir, 'allowedlist_server.txt'), 'a.example.test\nc.example.test\n');
  expect((await rawRequest(gw.proxyAddress.port, connectRequest('c.example.test:443'))).status).toBe(403);
  const r = await call(`${api}/api/reload`, { method: 'POST' });
  expect(r.body).toMatchObject({ changed: true, hosts: { added: ['c.example.test'], removed: [] } });
  expect(gw.events.list({ ids: [100] }).at(-1)!.message).toMatch(/Configuration reloaded \(POST \/api\/reload\): server allowlist added: c\.example\.test/);
  const ok = await rawRequest(gw.proxyAddress.port, connectRequest('c.example.test:443'));
  expect(ok.status).toBe(200);
  ok.socket.destroy();
  writeFileSync(join(work.dir, 'allowedlist_server.txt'), 'bad host\n');
  expect((await call(`${api}/api/reload`, { method: 'POST' })).body.error).toMatch(/line 1/);
  expect(gw.events.list({ ids: [401] })[0].message).toMatch(/Reload \(POST \/api\/reload\) failed, previous settings kept: .*line 1/);
  expect((await call(`${api}/api/allowlist/hosts`)).body.hosts).toEqual(['a.example.test', 'c.example.test']);
});

test('--watch applies allowlist edits live', async () => {
  const { gw } = await start({ watch: true });
  writeFileSync(join(work.dir, 'allowedlist_server.txt'), 'a.example.test\nw.example.test\n');
  await eventually(() => gw.events.list({ ids: [100] }).some((e) => e.message.includes('w.example.test')), 'watch reload');
  const ok = await rawRequest(gw.proxyAddress.port, connectRequest('w.example.test:443'));
  expect(ok.status).toBe(200);
  ok.socket.destroy();
});

test('config: credentials masked; relay proxy changed live and saved; a request with a restart-only key is refused whole', async () => {
  const configFile = join(work.dir, 'gateway.json');
  writeFileSync(configFile, '{}\n');
  const { api } = await start({ relayProxy: 'http://user:topsecret@127.0.0.1:3128', proxyAuth: 'agent:alsosecret', adminToken: 'token-123456', configFile });
  const auth = { authorization: 'Bearer token-123456' };
  const got = await call(`${api}/api/config`);
  expect(got.text).not.toMatch(/topsecret|alsosecret|token-123456/);
  expect(got.body.config).toMatchObject({ relayProxy: 'http://user:****@127.0.0.1:3128', proxyAuth: 'agent:****', adminToken: '****', listenPort: 0 });
  const mixed = await call(`${api}/api/config`, { method: 'PUT', json: { relayProxy: null, listenPort: 8088 }, headers: auth });
  expect(mixed.status).toBe(400);
  expect(mixed.body.error).toMatch(/"listenPort" cannot change on a running gateway: restart required/);
  expect(readFileSync(configFile, 'utf8')).toBe('{}\n');
  expect((await call(`${api}/api/config`)).body.config.relayProxy).toBe('http://user:****@127.0.0.1:3128');
  const put = await call(`${api}/api/config`, { method: 'PUT', json: { relayProxy: null }, headers: auth });
  expect(put.body).toMatchObject({ applied: ['relayProxy'], restartRequired: [], relayProxy: null, persisted: true });
  expect(JSON.parse(readFileSync(configFile, 'utf8'))).toEqual({});
  expect((await call(`${api}/api/config`, { method: 'PUT', json: { allowedPorts: [0] }, headers: auth })).body.error).toBe('"allowedPorts"[0] must be a port number from 1 to 65535, got 0');
  expect((await call(`${api}/api/config`, { method: 'PUT', json: { adminToken: 'x' }, headers: auth })).status).toBe(400);
});

test('restart-only settings are refused with "restart required"; live ones apply without a config file', async () => {
  const { gw, api } = await start();
  const r = await call(`${api}/api/config`, { method: 'PUT', json: { listenPort: 9000 } });
  expect(r.status).toBe(400);
  expect(r.body.error).toBe('"listenPort" cannot change on a running gateway: restart required (save it with `omsgw config set listenPort <value> --dir <folder>` and restart)');
  expect((await call(`${api}/api/config`, { method: 'PUT', json: { allowedPorts: [443, 8443] } })).body).toMatchObject({ applied: ['allowedPorts'], persisted: false });
  const ok = await rawRequest(gw.proxyAddress.port, connectRequest('a.example.test:8443'));
  expect(ok.status).toBe(200);
  ok.socket.destroy();
  expect((await call(`${api}/api/config`, { method: 'PUT', json: { eventLog: '/tmp/x' } })).body.error).toMatch(/"eventLog" cannot change on a running gateway: restart required/);
});

test('admin token: every change needs the bearer token; reads do not', async () => {
  const { api } = await start({ adminToken: 'sekrit-token' });
  expect((await call(`${api}/api/allowlist/hosts`)).status).toBe(200);
  const none = await call(`${api}/api/allowlist/hosts`, { method: 'POST', json: { host: 'x.example.test' } });
  expect(none.status).toBe(401);
  expect(none.body.error).toMatch(/Authorization: Bearer/);
  expect((await call(`${api}/api/reload`, { method: 'POST', headers: { authorization: 'Bearer wrong-token!' } })).status).toBe(401);
  expect((await call(`${api}/api/reload`, { method: 'POST', headers: { authorization: 'Bearer sekrit-token' } })).status).toBe(200);
});

test('a management API off loopback without a token is refused at creation', () => {
  expect(() => createGateway({ listenPort: 0, adminHost: '0.0.0.0', adminPort: 0, allowlist: ['a.example.test'] })).toThrow(/off loopback, without a token/);
});

test('unknown endpoints, wrong methods, and the clock endpoint without a manual clock', async () => {
  const { api } = await start();
  expect((await call(`${api}/nope`)).body).toEqual({ error: 'no such endpoint: /nope' });
  const wrong = await call(`${api}/api/counters`, { method: 'DELETE' });
  expect(wrong.status).toBe(405);
  expect((await call(`${api}/api/clock/advance`, { method: 'POST', json: { ms: 1 } })).status).toBe(404);
});

test('POST /api/clock/advance moves a manual clock across the daily reset', async () => {
  const clock = new ManualClock(Date.UTC(2016, 2, 1, 23, 59, 0));
  const { gw, api } = await start({ clock });
  const r = await rawRequest(gw.proxyAddress.port, connectRequest('a.example.test:443'), { localAddress: '127.0.0.31' });
  r.socket.destroy();
  expect((await call(`${api}/api/counters`)).body.connectedClients).toBe(1);
  expect((await call(`${api}/api/clock/advance`, { method: 'POST', json: { ms: 59_000 } })).body).toEqual({ now: '2016-03-01T23:59:59.000Z' });
  expect((await call(`${api}/api/counters`)).body.connectedClients).toBe(1);
  expect((await call(`${api}/api/clock/advance`, { method: 'POST', json: { to: '2016-03-02T00:00:00Z' } })).body).toEqual({ now: '2016-03-02T00:00:00.000Z' });
  expect((await call(`${api}/api/counters`)).body.connectedClients).toBe(0);
  expect((await call(`${api}/api/clock/advance`, { method: 'POST', json: { to: '2016-01-01T00:00:00Z' } })).status).toBe(400);
  expect((await call(`${api}/api/clock/advance`, { method: 'POST', json: { ms: -5 } })).status).toBe(400);
});
