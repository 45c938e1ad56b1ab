import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCloud, type FakeCloud } from '../index.js';
import { openTls, request } from './helpers.js';

const WS = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
const KEY = Buffer.alloc(32, 0x44).toString('base64');
const OMS = `${WS}.oms.opinsights.azure.com`;
const BLOB = 'lab.blob.core.windows.net';

let dir: string;
let cloud: FakeCloud;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-cloud-faults-'));
  cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], adminPort: 0 });
  await cloud.start();
});
afterAll(async () => {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => cloud.faults.clear());

// A request the cloud answers 404 without faults: cheap, needs no onboarding.
const probe = (o: { host?: string; path?: string; viaConnect?: boolean; timeoutMs?: number } = {}) =>
  request({ port: cloud.port, host: o.host ?? BLOB, path: o.path ?? '/c/missing', method: 'GET', ca: cloud.caCertPem, viaConnect: o.viaConnect, timeoutMs: o.timeoutMs });

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${cloud.adminUrl}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: await res.json() };
}

describe('each fault type as a client sees it', () => {
  test('status 503 with Retry-After, limited by count', async () => {
    cloud.faults.add({ type: 'status', status: 503, count: 1, host: '*.blob.core.windows.net' });
    const r1 = await probe({ viaConnect: true });
    expect(r1.status).toBe(503);
    expect(r1.headers['retry-after']).toBe('30');
    expect((await probe()).status).toBe(404);
    expect(cloud.faults.list()[0]).toMatchObject({ hits: 1, remaining: 0 });
  });

  test('429 with a chosen Retry-After, and 500', async () => {
    cloud.faults.add({ id: 'throttle', type: 'status', status: 429, retryAfterSeconds: 7, path: '/c/*' });
    const r = await probe();
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('7');
    cloud.faults.remove('throttle');
    cloud.faults.add({ type: 'status', status: 500 });
    const r500 = await probe();
    expect(r500.status).toBe(500);
    expect(r500.headers['retry-after']).toBeUndefined();
  });

  test('host and path globs leave other traffic alone', async () => {
    cloud.faults.add({ type: 'status', status: 500, host: OMS });
    cloud.faults.add({ type: 'reset', host: '*', path: '/only/this' });
    expect((await probe()).status).toBe(404);
    // ...while the traffic they name does meet them.
    expect((await probe({ host: OMS, path: '/AgentService.svc/Nothing' })).status).toBe(500);
    await expect(probe({ path: '/only/this' })).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  test('latency delays the answer', async () => {
    cloud.faults.add({ type: 'latency', latencyMs: 300 });
    const t = Date.now();
    expect((await probe()).status).toBe(404);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  test('latency: a request whose client left during the delay is not handled (nothing stored or counted)', async () => {
    cloud.faults.add({ id: 'slow', type: 'latency', latencyMs: 300, host: BLOB });
    const put = (path: string, timeoutMs?: number) =>
      request({ port: cloud.port, host: BLOB, path, method: 'PUT', ca: cloud.caCertPem, headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'payload', timeoutMs });
    await expect(put('/c/abandoned', 50)).rejects.toThrow(/timeout/);
    expect((await put('/c/kept')).status).toBe(201); // same fault, client still there: handled after the delay
    cloud.faults.remove('slow');
    expect((await probe({ path: '/c/kept' })).status).toBe(200);
    expect((await probe({ path: '/c/abandoned' })).status).toBe(404);
  });

  test('connection reset', async () => {
    cloud.faults.add({ type: 'reset' });
    await expect(probe()).rejects.toThrow(/ECONNRESET|socket hang up/);
    await expect(probe({ viaConnect: true })).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  test('hang: no answer until the client gives up', async () => {
    cloud.faults.add({ type: 'hang', count: 1 });
    await expect(probe({ timeoutMs: 300 })).rejects.toThrow(/timeout/);
    expect((await probe()).status).toBe(404);
  });

  test.each([false, true])('refuse new TLS handshakes (through CONNECT: %s)', async (viaConnect) => {
    cloud.faults.add({ type: 'refuse-tls', host: OMS });
    await expect(openTls({ port: cloud.port, host: OMS, ca: cloud.caCertPem, viaConnect })).rejects.toThrow(/socket disconnected before secure TLS connection was established|ECONNRESET/);
    const ok = await openTls({ port: cloud.port, host: BLOB, ca: cloud.caCertPem, viaConnect });
    ok.destroy();
    expect(cloud.faults.list()[0].hits).toBe(1);
  });

  test('probability 0 never fires', async () => {
    cloud.faults.add({ type: 'status', status: 500, probability: 0 });
    for (let i = 0; i < 3; i++) expect((await probe()).status).toBe(404);
  });
});

describe('admin API', () => {
  test('faults CRUD switches behaviour at run time', async () => {
    const added = await admin('POST', '/_lab/faults', { id: 'f1', type: 'status', status: 503, host: '*.blob.core.windows.net' });
    expect(added.status).toBe(201);
    expect(added.json.faults[0]).toMatchObject({ id: 'f1', type: 'status', status: 503, retryAfterSeconds: 30 });
    expect((await probe()).status).toBe(503);
    expect((await admin('GET', '/_lab/faults')).json.faults).toEqual([expect.objectContaining({ id: 'f1', hits: 1 })]);
    expect((await admin('DELETE', '/_lab/faults/f1')).status).toBe(200);
    expect((await probe()).status).toBe(404);
    expect((await admin('DELETE', '/_lab/faults/f1')).status).toBe(404);
    await admin('POST', '/_lab/faults', [{ type: 'reset' }, { type: 'hang' }]);
    expect(cloud.faults.list()).toHaveLength(2);
    expect((await admin('DELETE', '/_lab/faults')).status).toBe(200);
    expect(cloud.faults.list()).toHaveLength(0);
  });

  test('bad input gets a JSON error saying what to fix', async () => {
    expect(await admin('POST', '/_lab/faults', '{nope')).toMatchObject({ status: 400, json: { error: expect.stringMatching(/not JSON/) } });
    expect(await admin('POST', '/_lab/faults', { type: 'status', status: 418 })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/fault status must be one of 429, 500, 502, 503, 504, got 418/) } });
    expect(await admin('GET', '/_lab/nothing')).toMatchObject({ status: 404, json: { error: expect.stringMatching(/no such lab endpoint/) } });
    expect(await admin('PUT', '/_lab/ingested')).toMatchObject({ status: 405 });
    expect(await admin('GET', '/_lab/ingested?workspace=contoso')).toMatchObject({ status: 400, json: { error: 'workspace must be a workspace id (GUID), got "contoso"' } });
    expect(await admin('DELETE', '/_lab/ingested?workspace=')).toMatchObject({ status: 400 });
    expect(await admin('POST', '/_lab/faults', [])).toMatchObject({ status: 400, json: { error: expect.stringMatching(/non-empty array/) } });
  });

  test('an array of faults with one bad spec adds none of them', async () => {
    const r = await admin('POST', '/_lab/faults', [{ id: 'ok', type: 'reset' }, { type: 'latency', latencyMs: 5, status: 503 }]);
    expect(r).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^fault 2 of 2: fault field "status" applies only to status faults/) } });
    expect(cloud.faults.list()).toEqual([]);
    expect((await probe()).status).toBe(404);
  });

  test('ingested?workspace= filters entries and totals, whatever the GUID case', async () => {
    const other = '00000000-1111-2222-3333-444444444444';
    cloud.ledger.record({ workspaceId: WS, agentId: 'a', dataType: 'T', records: 2, bytes: 3, decodedBytes: 4, recordIds: ['x'] });
    cloud.ledger.record({ workspaceId: other, agentId: 'b', dataType: 'T', records: 5, bytes: 50, decodedBytes: 60, recordIds: [] });
    try {
      const got = await admin('GET', `/_lab/ingested?workspace=${WS.toUpperCase()}`);
      expect(got.json.totals).toEqual({ posts: 1, records: 2, bytes: 3, decodedBytes: 4 });
      expect(got.json.entries.map((e: { agentId: string }) => e.agentId)).toEqual(['a']);
      expect((await admin('GET', '/_lab/ingested')).json.totals).toEqual({ posts: 2, records: 7, bytes: 53, decodedBytes: 64 });
      // DELETE with the same filter forgets only that workspace.
      expect((await admin('DELETE', `/_lab/ingested?workspace=${WS.toUpperCase()}`)).json).toEqual({ reset: true, workspace: WS.toUpperCase() });
      expect((await admin('GET', '/_lab/ingested')).json.entries.map((e: { workspaceId: string }) => e.workspaceId)).toEqual([other]);
    } finally {
      cloud.ledger.reset();
    }
  });

  test('ingested, agents and info', async () => {
    cloud.ledger.record({ workspaceId: WS, agentId: 'a', dataType: 'T', records: 2, bytes: 3, decodedBytes: 4, recordIds: ['x'] });
    const got = await admin('GET', `/_lab/ingested?workspace=${WS}`);
    expect(got.json).toEqual({ totals: { posts: 1, records: 2, bytes: 3, decodedBytes: 4 }, entries: [expect.objectContaining({ agentId: 'a', recordIds: ['x'] })] });
    expect((await admin('DELETE', '/_lab/ingested')).json).toEqual({ reset: true });
    expect((await admin('GET', '/_lab/ingested')).json.totals.posts).toBe(0);
    expect((await admin('GET', '/_lab/agents')).json).toEqual({ agents: [] });
    const info = (await admin('GET', '/_lab/info')).json;
    expect(info).toMatchObject({ port: cloud.port, caCertPath: cloud.caCertPath, workspaces: [WS] });
    expect(info.hostMapEntries).toContain(`*.opinsights.azure.com=127.0.0.1:${cloud.port}`);
  });
});
