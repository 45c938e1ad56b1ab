/**
 * The client certificate allowlist with the simulated agents' real certificates: agents go through
 * the real gateway to the fake cloud (which requests client certificates on its agent hosts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import { createFakeCloud, type FakeCloud } from '../../fake-oms-endpoints/index.js';
import { createAgent, KeyPool, type SimulatedAgent } from '../../simulators/agent-core/index.js';
import { createGateway, type Gateway } from '../index.js';

const WS = '6f0c9a52-3d1e-4b7a-9c2f-8e5d4a3b2c1d';
const KEY = Buffer.from('tls inspection test workspace key!').toString('base64');
const AGENT_SERVICE = 'scus-agentservice-prod-1.azure-automation.net';
const OMS = `${WS}.oms.opinsights.azure.com`;

let dir: string;
let clock: ManualClock;
let cloud: FakeCloud;
const keyPool = new KeyPool({ size: 2 });
const gateways: Gateway[] = [];
const agents: SimulatedAgent[] = [];

async function startGateway(clientAllowlist: string[]): Promise<Gateway> {
  const gw = createGateway({
    listenHost: '127.0.0.1',
    listenPort: 0,
    adminPort: null,
    allowlist: [OMS, `${WS}.ods.opinsights.azure.com`, AGENT_SERVICE],
    clientAllowlist,
    hostMap: cloud.hostMapEntries(),
    clock,
  });
  await gw.start();
  gateways.push(gw);
  return gw;
}

function agent(os: 'linux' | 'windows', gw: Gateway, bindAddress: string): SimulatedAgent {
  const a = createAgent({ os, workspaceId: WS, workspaceKey: KEY, proxy: `http://127.0.0.1:${gw.proxyAddress.port}`, caPem: cloud.caCertPem, seed: `tls-${os}`, keyPool, clock, bindAddress });
  agents.push(a);
  return a;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-tls-agents-'));
  clock = new ManualClock(Date.UTC(2016, 2, 1, 9, 0, 0));
  cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }], clock });
  await cloud.start();
  await keyPool.warm();
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a CN=<workspaceId> entry admits the workspace agents: 103 then 107 carrying the certificate subject', async () => {
  const gw = await startGateway([`CN=${WS}`]);
  const lin = agent('linux', gw, '127.0.4.1');
  const result = await lin.runOnce();
  expect(result.delivered).toBeGreaterThan(0);
  const oms = gw.events.list().filter((e) => e.clientIp === '127.0.4.1' && e.target === `${OMS}:443`);
  expect(oms.map((e) => e.id).slice(0, 2)).toEqual([103, 107]);
  // The Linux agent's certificate subject, as omsadmin.sh writes it, in certificate order.
  expect(oms[1].fields?.clientSubject).toBe(`CN=${WS}, CN=${lin.agentId}, OU=Linux Monitoring Agent, O=Microsoft`);
  expect(gw.events.list({ ids: [105, 106, 402] })).toEqual([]);
});

test('a workspace not in the list: 105 "Invalid Client certificate: <subject>" and the agent is not onboarded', async () => {
  const gw = await startGateway(['CN=00000000-0000-4000-8000-000000000000']);
  const win = agent('windows', gw, '127.0.4.2');
  await expect(win.onboard()).rejects.toThrow(/TLS handshake with .* failed: the connection was closed during the handshake/);
  const events = gw.events.list().filter((e) => e.clientIp === '127.0.4.2');
  expect(events.map((e) => e.id).slice(0, 2)).toEqual([103, 105]);
  expect(events[1].message).toBe(`Invalid Client certificate: CN=${WS}, CN=${win.agentId}, OU=Microsoft Monitoring Agent, O=Microsoft`);
  expect(gw.counters.snapshot().rejectionCount).toBe(events.filter((e) => e.id === 105).length);
  expect(cloud.agents().map((a) => a.agentId)).not.toContain(win.agentId);
});
