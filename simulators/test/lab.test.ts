/**
 * The agents against the real gateway (gateway/index.ts) and the real fake cloud
 * (fake-oms-endpoints/index.ts), over loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import { createFakeCloud, type FakeCloud } from '../../fake-oms-endpoints/index.js';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { defaultHosts } from '../../gateway/init.js';
import { assertLedgerInvariant, createAgent, createFleet, KeyPool, type AgentOptions, type Fleet, type SimulatedAgent } from '../agent-core/index.js';

const WS = '3b1a2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const KEY = Buffer.from('lab test workspace key - 32 bytes!').toString('base64');
const AGENT_SERVICE = 'scus-agentservice-prod-1.azure-automation.net';

let dir: string;
let clock: ManualClock;
let cloud: FakeCloud;
const keyPool = new KeyPool({ size: 8 });
const gateways: Gateway[] = [];
const agents: SimulatedAgent[] = [];
const fleets: Fleet[] = [];

async function startGateway(allowlist: string[], listenPort = 0): Promise<Gateway> {
  const gw = createGateway({ listenHost: '127.0.0.1', listenPort, adminPort: null, allowlist, hostMap: cloud.hostMapEntries(), clock });
  await gw.start();
  gateways.push(gw);
  return gw;
}

function agent(os: 'linux' | 'windows', gw: Gateway, extra: Partial<AgentOptions> = {}): SimulatedAgent {
  const a = createAgent({ os, workspaceId: WS, workspaceKey: KEY, proxy: `http://127.0.0.1:${gw.proxyAddress.port}`, caPem: cloud.caCertPem, seed: 'lab', keyPool, clock, ...extra });
  agents.push(a);
  return a;
}

/** Ids the cloud ingested for one agent, all data types. */
function ingestedIds(agentId: string): string[] {
  return cloud.ledger.summary({ agentId }).flatMap((e) => e.recordIds);
}

function eventsFor(gw: Gateway, target: string) {
  return gw.events.list({ ids: [103, 105, 107] }).filter((e) => e.target === target || e.message.includes(target));
}

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-sim-lab-'));
  clock = new ManualClock(Date.UTC(2016, 2, 1, 9, 0, 0));
  cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }], clock });
  await cloud.start();
  await keyPool.warm();
});

afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()));
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
});

test('Windows and Linux agents onboard and deliver through the gateway (103 then 107 per host)', async () => {
  const gw = await startGateway([...defaultHosts(WS), AGENT_SERVICE]);
  const win = agent('windows', gw, { seed: 'win', bindAddress: '127.0.2.1' });
  const lin = agent('linux', gw, { seed: 'lin', bindAddress: '127.0.2.2' });
  const [w, l] = await Promise.all([win.runOnce(), lin.runOnce()]);
  expect(w.delivered).toBeGreaterThan(0);
  expect(l.delivered).toBeGreaterThan(0);
  for (const a of [win, lin]) {
    expect(ingestedIds(a.agentId).sort()).toEqual(a.ledger.acknowledgedIds().sort());
    assertLedgerInvariant(a.summary());
  }
  const oms = `${WS}.oms.opinsights.azure.com:443`;
  const winOms = eventsFor(gw, oms).filter((e) => e.clientIp === '127.0.2.1');
  expect(winOms.map((e) => e.id).slice(0, 2)).toEqual([103, 107]);
  const linService = eventsFor(gw, `${AGENT_SERVICE}:443`).filter((e) => e.clientIp === '127.0.2.2');
  expect(linService.map((e) => e.id)).toEqual([103, 107]);
  expect(gw.events.list({ ids: [105, 106, 402] })).toEqual([]);
  expect(cloud.agents().map((a) => a.agentId).sort()).toEqual([win.agentId, lin.agentId].sort());
});

test('the 2016 bug: behind a default-allowlist gateway the Linux agent fails at the automation host (103, 105) and keeps its data; after the host is added and the gateway restarted, everything queued is delivered', async () => {
  const gw1 = await startGateway(defaultHosts(WS));
  const port = gw1.proxyAddress.port;
  const lin = agent('linux', gw1, { seed: 'bug', bindAddress: '127.0.2.9', retry: { onboardInitialMs: 60_000, onboardMaxMs: 120_000 } });
  lin.start();
  await lin.waitFor((s) => s.state === 'retrying' && s.lastFailure?.phase === 'agent-service');
  const st = lin.status();
  expect(st).toMatchObject({ onboarded: true, agentServiceRegistered: false, delivered: 0 });
  expect(st.lastFailure).toMatchObject({ kind: 'proxy-refused', proxyStatus: 403, target: `${AGENT_SERVICE}:443` });
  expect(st.lastError).toMatch(/^Proxy CONNECT refused: 403/);
  expect(eventsFor(gw1, `${AGENT_SERVICE}:443`).map((e) => e.id)).toEqual([103, 105]);
  expect(eventsFor(gw1, `${WS}.oms.opinsights.azure.com:443`).map((e) => e.id)).toEqual([103, 107]);

  // ten minutes of schedules: data is created and stays queued, retries keep failing
  for (let i = 0; i < 10; i++) await clock.advance(60_000);
  await until(() => lin.status().state === 'retrying', 'retry state');
  const queued = lin.status();
  expect(queued.created).toBeGreaterThan(30);
  expect(queued.queued).toBe(queued.created);
  expect(ingestedIds(lin.agentId)).toEqual([]);
  expect(eventsFor(gw1, `${AGENT_SERVICE}:443`).filter((e) => e.id === 105).length).toBeGreaterThanOrEqual(3);

  // fix: add the host, restart the gateway on the same port
  await gw1.close();
  gateways.splice(gateways.indexOf(gw1), 1);
  const gw2 = await startGateway([...defaultHosts(WS), AGENT_SERVICE], port);
  await clock.advanceTo(lin.status().nextRetryAt!);
  const done = await lin.waitFor((s) => s.agentServiceRegistered === true && s.queued === 0, { timeoutMs: 20_000 });
  expect(done.delivered).toBe(done.created);
  expect(eventsFor(gw2, `${AGENT_SERVICE}:443`).map((e) => e.id)).toEqual([103, 107]);
  const ingested = ingestedIds(lin.agentId);
  expect(new Set(ingested).size).toBe(ingested.length);
  expect(ingested.sort()).toEqual([...lin.ledger.records()].map((r) => r.id).sort()); // created = ingested
});

test('a 200-agent fleet from distinct source addresses shows up as 200 connected clients', async () => {
  const gw = await startGateway([...defaultHosts(WS), AGENT_SERVICE]);
  const fleet = createFleet({ count: 200, os: 'windows', bindRange: '127.0.3.0/24', workspaceId: WS, workspaceKey: KEY, proxy: `127.0.0.1:${gw.proxyAddress.port}`, caPem: cloud.caCertPem, seed: 'fleet200', keyPool, clock, concurrency: 16 });
  fleets.push(fleet);
  const failures = await fleet.onboardAll();
  expect(failures.map((f) => f.error.message)).toEqual([]);
  expect(fleet.status().total.onboarded).toBe(200);
  expect(gw.counters.snapshot().connectedClients).toBe(200);
  const ips = new Set(gw.events.list({ ids: [103] }).map((e) => e.clientIp));
  expect(ips.size).toBe(200);
  expect(new Set(fleet.agents.map((a) => a.agentId)).size).toBe(200);
});

test('a gateway outage in the middle of a run loses nothing', async () => {
  const gw1 = await startGateway([...defaultHosts(WS), AGENT_SERVICE]);
  const port = gw1.proxyAddress.port;
  const fleet = createFleet({ count: 6, mix: { windows: 1, linux: 1 }, bindRange: '127.0.4.0/29', workspaceId: WS, workspaceKey: KEY, proxy: `127.0.0.1:${port}`, caPem: cloud.caCertPem, seed: 'outage', keyPool, clock, retry: { uploadInitialMs: 30_000, uploadMaxMs: 120_000, onboardInitialMs: 30_000 }, schedule: { topologyHeartbeatMs: 0 } });
  fleets.push(fleet);
  fleet.start();
  await fleet.waitFor({ onboarded: 'all' });
  await fleet.waitFor({ registered: 'all' });
  // The first collection (60 s) goes out on the next 20-s flush tick of the agents' buffers (omsagent, mma).
  await clock.advance(80_000);
  await fleet.waitFor((s) => s.total.created > 0 && s.total.queued === 0);
  const before = fleet.summary().acknowledged;
  expect(before).toBeGreaterThan(0);

  await gw1.close(); // outage
  gateways.splice(gateways.indexOf(gw1), 1);
  for (let i = 0; i < 5; i++) await clock.advance(60_000);
  await fleet.waitFor((s) => s.total.failing === 6);
  const during = fleet.status();
  expect(during.total.queued).toBeGreaterThan(0);
  expect(during.lastErrors[0]!.message).toMatch(/Cannot reach the proxy/);

  await startGateway([...defaultHosts(WS), AGENT_SERVICE], port); // back
  for (let i = 0; i < 4 && fleet.status().total.queued > 0; i++) {
    await clock.advance(120_000);
    await fleet.waitFor((s) => s.total.queued === 0, { timeoutMs: 5_000 }).catch(() => undefined);
  }
  const s = fleet.summary();
  expect(s.queued).toBe(0);
  expect(s.acknowledged).toBe(s.created);
  expect(s.dropped).toEqual({});
  const ingested = fleet.agents.flatMap((a) => ingestedIds(a.agentId));
  expect(new Set(ingested).size).toBe(s.created);
  expect(new Set(ingested)).toEqual(new Set(fleet.agents.flatMap((a) => [...a.ledger.records()].map((r) => r.id))));
});

test('a gateway that requires proxy credentials: the agent\'s user:pass@ works, none gets 407', async () => {
  const gw = createGateway({ listenPort: 0, adminPort: null, allowlist: defaultHosts(WS), hostMap: cloud.hostMapEntries(), proxyAuth: 'alice:s3cret', clock });
  await gw.start();
  gateways.push(gw);
  const ok = agent('windows', gw, { seed: 'auth-ok', proxy: `http://alice:s3cret@127.0.0.1:${gw.proxyAddress.port}` });
  expect((await ok.runOnce()).delivered).toBeGreaterThan(0);
  const none = agent('windows', gw, { seed: 'auth-none' });
  await expect(none.onboard()).rejects.toMatchObject({ kind: 'proxy-auth-required', proxyStatus: 407 });
  expect(none.status().lastError).toMatch(/^Proxy CONNECT refused: 407/);
  const events = gw.events.list({ ids: [103] }).map((e) => `${e.message} ${JSON.stringify(e.fields ?? {})}`).join('\n');
  expect(events).not.toContain('s3cret');
});

test('TLS 1.3 only, gateway on the preview-2016 policy: the gateway refuses the handshake (106) and the agent reports the broken handshake', async () => {
  const gw = createGateway({ listenHost: '127.0.0.1', listenPort: 0, adminPort: null, allowlist: [...defaultHosts(WS), AGENT_SERVICE], hostMap: cloud.hostMapEntries(), clock, tls: { policy: 'preview-2016' } });
  await gw.start();
  gateways.push(gw);
  const a = agent('windows', gw, { seed: 'tls13', bindAddress: '127.0.2.13', tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } });
  const err = await a.onboard().then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err).toMatchObject({ kind: 'network', message: expect.stringMatching(/^TLS handshake with .*\.oms\.opinsights\.azure\.com:443 failed: the (connection|tunnel) was closed during the handshake; likely the gateway refused the TLS session \(event 105: .*; 106: TLS version\); see it with: omsgw events --id 105,106$/) });
  await until(() => gw.events.list({ ids: [106] }).length > 0, 'event 106');
  expect(gw.events.list({ ids: [103, 106] }).filter((e) => e.clientIp === '127.0.2.13').map((e) => e.id)).toEqual([103, 106]);
  expect(a.status()).toMatchObject({ onboarded: false, lastCallFailed: true });
});

test('closing an agent while flush() waits on a scheduled upload ends the flush with an error instead of spinning forever', async () => {
  const gw = await startGateway([...defaultHosts(WS), AGENT_SERVICE]);
  const win = agent('windows', gw, { seed: 'close-mid-flush', bindAddress: '127.0.2.9' });
  await win.onboard();
  const hang = cloud.faults.add({ type: 'hang', host: '*.ods.opinsights.azure.com' });
  const hits = () => cloud.faults.list().find((f) => f.id === hang.id)?.hits ?? 0;
  try {
    win.start();
    await clock.advance(60_000); // one collection tick: records are created and the scheduled upload starts
    await until(() => hits() > 0, 'the scheduled upload to reach the hanging ODS host');
    // Waits on the scheduled upload already in flight; its outcome is taken at once, since it may end while close() runs.
    const flushed = win.flush().then(
      () => 'flush resolved',
      (err: Error) => err.message,
    );
    await win.close();
    expect(await flushed).toMatch(/closed while flushing: \d+ records stay queued/);
    const s = win.status();
    expect(s.queued).toBeGreaterThan(0);
    expect(s.dropped).toBe(0);
  } finally {
    cloud.faults.clear();
  }
});
