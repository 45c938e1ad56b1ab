/**
 * The simulated Azure Monitor Agent against the real gateway (gateway/index.ts) and the fake cloud's
 * AMA endpoints, over loopback: TLS, CONNECT, the handler's redirects and tokens, real uploads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import { createFakeCloud, type FakeCloud } from '../../fake-oms-endpoints/index.js';
import { amaAllowlistHosts, dceHandlerHost, dceIngestHost, GLOBAL_HANDLER_HOST, regionalHandlerHost } from '../../fake-oms-endpoints/ama/hosts.js';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { defaultHosts } from '../../gateway/init.js';
import { assertLedgerInvariant } from '../agent-core/ledger.js';
import { AgentError } from '../agent-core/errors.js';
import { createAmaAgent, type AmaAgent, type AmaAgentOptions } from '../ama-agent/index.js';
import { AmaFleet } from '../ama-agent/fleet.js';

const WS = '5d2e7f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
const KEY = Buffer.from('ama test workspace key, 32 bytes').toString('base64');
const DCE = 'omsgw-dce-k3x9';

let dir: string;
let clock: ManualClock;
let cloud: FakeCloud;
let gw2016: Gateway;
let gwAma: Gateway;
let gwAuth: Gateway;
const agents: AmaAgent[] = [];
/** Each agent its own identity (same seed, new index), so ledgers never mix across tests. */
let nextIndex = 0;

async function gateway(allowlist: string[], extra: Record<string, unknown> = {}): Promise<Gateway> {
  const gw = createGateway({ listenHost: '127.0.0.1', listenPort: 0, adminPort: null, allowlist, hostMap: cloud.hostMapEntries(), clock, ...extra });
  await gw.start();
  return gw;
}

function agent(gw: Gateway, extra: Partial<AmaAgentOptions> = {}): AmaAgent {
  const a = createAmaAgent({ workspaceId: WS, proxy: { mode: 'application', address: `http://127.0.0.1:${gw.proxyAddress.port}`, auth: 'false' }, caPem: cloud.caCertPem, seed: 'ama', index: nextIndex++, clock, ...extra });
  agents.push(a);
  return a;
}

function ingestedIds(agentId: string, dataType?: string): string[] {
  return cloud.ledger.summary({ agentId }).filter((e) => !dataType || e.dataType === dataType).flatMap((e) => e.recordIds);
}

async function failure(p: Promise<unknown>): Promise<AgentError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AgentError)) throw new Error(`expected an AgentError, got ${String(err)}`);
  return err;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-ama-'));
  clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }], clock });
  await cloud.start();
  gw2016 = await gateway(defaultHosts(WS));
  gwAma = await gateway([...defaultHosts(WS), ...amaAllowlistHosts(WS, 'eastus', DCE)]);
  gwAuth = await gateway([...defaultHosts(WS), ...amaAllowlistHosts(WS, 'eastus', DCE)], { proxyAuth: 'ama-user:s3cret' });
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  cloud.ama.update({ configVia: 'global', dcr: 'valid', dce: null });
});

afterAll(async () => {
  await Promise.all([gw2016, gwAma, gwAuth].map((g) => g?.close()));
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a 2016-style allowlist: the handler host gets 103 then 105, the agent reports the config phase and sends nothing', async () => {
  const a = agent(gw2016);
  const err = await failure(a.runOnce());
  expect(err.phase).toBe('config');
  expect(err.kind).toBe('proxy-refused');
  expect(err.proxyStatus).toBe(403);
  expect(err.details.target).toBe(`${GLOBAL_HANDLER_HOST}:443`);
  const ids = gw2016.events.list({ ids: [103, 105, 107] }).filter((e) => e.target === `${GLOBAL_HANDLER_HOST}:443`).map((e) => e.id);
  expect(ids).toEqual([103, 105]);
  expect(a.status()).toMatchObject({ configured: false, created: 0, delivered: 0, lastFailure: { phase: 'config', proxyStatus: 403 } });
  expect(cloud.ledger.summary({ agentId: a.agentId })).toEqual([]);
  // Positive control on the same run: the managed-identity token did come, from the loopback IMDS.
  expect(a.imdsEndpoint!.tokensIssued).toBe(1);
});

test('with the documented AMA hosts: token from the loopback IMDS (not through the gateway), configuration, ingestion token, deflated upload to ODS; created = ingested', async () => {
  const a = agent(gwAma);
  const before = gwAma.events.list({ ids: [103] }).length;
  await a.runOnce();
  const s = a.summary();
  assertLedgerInvariant(s);
  expect(s.created).toBeGreaterThan(0);
  expect(s.acknowledged).toBe(s.created);
  const created = [...a.ledger.records()].map((r) => r.id).sort();
  expect(ingestedIds(a.agentId).sort()).toEqual(created);
  expect(cloud.ledger.summary({ agentId: a.agentId }).map((e) => e.dataType).sort()).toEqual(['HEALTH_ASSESSMENT_BLOB', 'LINUX_SYSLOGS_BLOB']);
  const targets = gwAma.events.list({ ids: [103] }).slice(before).map((e) => e.target);
  // global handler (configuration), regional handler (ingestion token), ODS (uploads); never the IMDS.
  expect(new Set(targets)).toEqual(new Set([`${GLOBAL_HANDLER_HOST}:443`, `${regionalHandlerHost('eastus')}:443`, `${WS}.ods.opinsights.azure.com:443`]));
  expect(a.imdsEndpoint!.tokensIssued).toBe(1);
  expect(a.handlerHops).toEqual([GLOBAL_HANDLER_HOST]);
});

test('proxy auth "true" sends Basic credentials; auth "false" through a gateway that requires them gets 407', async () => {
  const ok = agent(gwAuth, { proxy: { mode: 'application', address: `http://127.0.0.1:${gwAuth.proxyAddress.port}`, auth: 'true', username: 'ama-user', password: 's3cret' } });
  await ok.runOnce();
  expect(ok.status().delivered).toBe(ok.status().created);
  const anon = agent(gwAuth);
  const err = await failure(anon.runOnce());
  expect(err).toMatchObject({ kind: 'proxy-auth-required', proxyStatus: 407 });
  expect(err.phase).toBe('config');
});

test('a DCE: the global handler answers 421 naming the DCE handler, custom logs go to the DCE ingestion host', async () => {
  cloud.ama.update({ configVia: 'dce', dce: DCE });
  const a = agent(gwAma);
  await a.runOnce();
  expect(a.handlerHops).toEqual([GLOBAL_HANDLER_HOST, dceHandlerHost(DCE, 'eastus')]);
  const custom = [...a.ledger.records()].filter((r) => r.dataType === 'Custom-OmsgwApp_CL').map((r) => r.id).sort();
  expect(custom.length).toBeGreaterThan(0);
  expect(ingestedIds(a.agentId, 'Custom-OmsgwApp_CL').sort()).toEqual(custom);
  expect(gwAma.events.list({ ids: [107] }).some((e) => e.target === `${dceIngestHost(DCE, 'eastus')}:443`)).toBe(true);
});

test('proxy mode none: straight to the cloud, the gateway sees nothing', async () => {
  const before = gwAma.events.list({ ids: [103] }).length;
  const a = agent(gwAma, { proxy: { mode: 'none' }, direct: { host: '127.0.0.1', port: cloud.port } });
  await a.runOnce();
  expect(a.status().created).toBeGreaterThan(0);
  expect(ingestedIds(a.agentId).length).toBe(a.status().created);
  expect(gwAma.events.list({ ids: [103] }).length).toBe(before);
});

test("today's agent offers TLS 1.3: a gateway on the 2016 preview policy answers 106 and the agent reports the config phase", async () => {
  const gw = await gateway([...defaultHosts(WS), ...amaAllowlistHosts(WS, 'eastus')], { tls: { policy: 'preview-2016' } });
  try {
    const a = agent(gw);
    const err = await failure(a.runOnce());
    expect(err.phase).toBe('config');
    expect(gw.events.list({ ids: [103, 106, 107] }).filter((e) => e.target === `${GLOBAL_HANDLER_HOST}:443`).map((e) => e.id)).toEqual([103, 106]);
    // Positive control: the same agent limited to TLS 1.2 gets through that gateway.
    const old = agent(gw, { tls: { maxVersion: 'TLSv1.2' } });
    await old.runOnce();
    expect(old.status().delivered).toBe(old.status().created);
  } finally {
    await gw.close();
  }
});

test('a handler redirect loop is reported as such in the config phase; nothing is created', async () => {
  cloud.ama.update({ configVia: 'loop' });
  const a = agent(gwAma);
  const err = await failure(a.runOnce());
  expect(err.phase).toBe('config');
  expect(err.kind).toBe('protocol');
  expect(err.message).toBe(`Handler redirect loop: ${GLOBAL_HANDLER_HOST} -> ${regionalHandlerHost('eastus')} -> ${GLOBAL_HANDLER_HOST} (each answered 421 MisdirectedAgentRequest)`);
  expect(a.status().created).toBe(0);
});

test('a DCR the agent cannot parse fails the config phase; the previous configuration and the queued data are kept and delivered', async () => {
  const a = agent(gwAma);
  await a.configure();
  a.collect();
  const queued = a.status().queued;
  expect(queued).toBeGreaterThan(0);
  cloud.ama.update({ dcr: 'unparsable' });
  const err = await failure(a.configure());
  expect(err.phase).toBe('config');
  expect(err.message).toMatch(/^Cannot parse the data collection rule from global\.handler\.control\.monitor\.azure\.com:443: \/configurations\/0\/content\/dataSources must be array$/);
  expect(a.status()).toMatchObject({ configured: true, queued, lastFailure: { phase: 'config', kind: 'protocol' } });
  await a.flush();
  expect(a.status()).toMatchObject({ queued: 0, delivered: queued });
});

test.each([
  ['expired', 'TokenExpired'],
  ['wrong-audience', 'InvalidAudience'],
] as const)('an IMDS token that is %s: the handler answers 401 %s and the agent says so in the config phase', async (fault, code) => {
  const a = agent(gwAma, { imdsTokenFault: fault });
  const err = await failure(a.runOnce());
  expect(err).toMatchObject({ kind: 'http', statusCode: 401 });
  expect(err.phase).toBe('config');
  expect(err.message).toContain(`answered 401 ${code}: `);
  expect(a.status().created).toBe(0);
});

test('a token that expires later: the ingestion-token phase fails with 401, the data stays queued, and is delivered once a good token comes', async () => {
  const a = agent(gwAma);
  await a.runOnce();
  const first = a.status().delivered;
  a.imdsEndpoint!.tokenFault = 'expired';
  await clock.advance(25 * 3_600_000); // past the 24 h managed-identity and ingestion tokens
  a.collect();
  const err = await failure(a.flush());
  expect(err.phase).toBe('ingestion-token');
  expect(err).toMatchObject({ statusCode: 401 });
  expect(err.message).toContain('TokenExpired');
  const queued = a.status().queued;
  expect(queued).toBeGreaterThan(0);
  a.imdsEndpoint!.tokenFault = undefined;
  await a.flush();
  expect(a.status()).toMatchObject({ queued: 0, delivered: first + queued, dropped: 0 });
  expect(ingestedIds(a.agentId).length).toBe(first + queued);
});

test('start(): refused by the gateway, the agent retries on its clock with backoff and delivers once allowed', async () => {
  const gw = await gateway(defaultHosts(WS));
  try {
    const a = agent(gw, { schedule: { collectIntervalMs: 60_000 }, retry: { initialMs: 30_000, maxMs: 60_000, jitter: 0 } });
    a.start();
    await a.waitFor((s) => s.state === 'retrying', { timeoutMs: 10_000 });
    expect(a.status()).toMatchObject({ created: 0, lastFailure: { phase: 'config', proxyStatus: 403 } });
    expect(a.status().nextRetryAt).toBe(clock.now() + 30_000);
    // The host is now allowed (the allowlist file story is the scenario's; here the allowlist is set live).
    await gw.close();
    const fixed = await gateway([...defaultHosts(WS), ...amaAllowlistHosts(WS, 'eastus')], { listenPort: gw.proxyAddress.port });
    try {
      await clock.advance(30_000);
      await a.waitFor({ configured: true }, { timeoutMs: 10_000 });
      await clock.advance(60_000);
      await a.waitFor((s) => s.created > 0 && s.delivered === s.created, { timeoutMs: 10_000 });
      expect(ingestedIds(a.agentId).length).toBe(a.status().created);
    } finally {
      await a.close();
      await fixed.close();
    }
  } finally {
    await gw.close();
  }
});

test('an AMA fleet from a bind range: distinct clients at the gateway, each its own identity and IMDS; created = ingested', async () => {
  const fleet = new AmaFleet({ count: 3, bindRange: '127.0.42.0/29', workspaceId: WS, proxy: { mode: 'application', address: `http://127.0.0.1:${gwAma.proxyAddress.port}`, auth: 'false' }, caPem: cloud.caCertPem, seed: 'ama-fleet', clock });
  try {
    expect(await fleet.runOnce()).toEqual([]);
    expect(new Set(fleet.agents.map((a) => a.agentId)).size).toBe(3);
    expect(new Set(fleet.agents.map((a) => a.imdsEndpoint!.port)).size).toBe(3);
    const clients = new Set(gwAma.events.list({ ids: [103] }).filter((e) => e.clientIp?.startsWith('127.0.42.')).map((e) => e.clientIp));
    expect(clients).toEqual(new Set(['127.0.42.1', '127.0.42.2', '127.0.42.3']));
    const s = fleet.summary();
    expect(s.acknowledged).toBe(s.created);
    expect(fleet.agents.reduce((n, a) => n + ingestedIds(a.agentId).length, 0)).toBe(s.created);
    expect(fleet.totals()).toMatchObject({ agents: 3, configured: 3, queued: 0, dropped: 0 });
  } finally {
    await fleet.close();
  }
});

test('a cloud fault (503 with Retry-After on the ODS host): the upload phase fails, the retry waits at least Retry-After, then everything arrives', async () => {
  const a = agent(gwAma, { schedule: { collectIntervalMs: 60_000 }, retry: { initialMs: 10_000, maxMs: 20_000, jitter: 0 } });
  await a.configure();
  const fault = cloud.faults.add({ type: 'status', status: 503, retryAfterSeconds: 120, host: `${WS}.ods.opinsights.azure.com`, count: 1 });
  try {
    a.start();
    await clock.advance(60_000); // first collection tick, whose upload meets the fault
    await a.waitFor((s) => s.state === 'retrying', { timeoutMs: 10_000 });
    expect(a.status().lastFailure).toMatchObject({ phase: 'upload', kind: 'http', statusCode: 503 });
    // Retry-After (120 s) wins over the 10 s backoff.
    expect(a.status().nextRetryAt).toBe(clock.now() + 120_000);
    const queued = a.status().queued;
    expect(queued).toBeGreaterThan(0);
    await clock.advance(120_000);
    await a.waitFor((s) => s.queued === 0 && s.delivered >= queued, { timeoutMs: 10_000 });
    expect(ingestedIds(a.agentId).sort()).toEqual([...a.ledger.records()].filter((r) => r.state === 'acknowledged').map((r) => r.id).sort());
    expect(cloud.faults.list().find((f) => f.id === fault.id)?.hits).toBe(1);
  } finally {
    cloud.faults.remove(fault.id);
  }
});
