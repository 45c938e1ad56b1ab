import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { createFakeCloud, DATA_COLLECTOR_AGENT, RECORD_ID_FIELD, type FakeCloud } from '../index.js';
import { makeAgentCert, omsadminDate, request, signedHeaders, topologyXml, type ClientCert } from './helpers.js';

const WS = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
const KEY = Buffer.alloc(64, 0x21).toString('base64');
const ODS = `${WS}.ods.opinsights.azure.com`;
const ODS_PATH = '/OperationalData.svc/PostJsonDataItems';
const AGENT_SVC = 'scus-agentservice-prod-1.azure-automation.net';

let dir: string;
let cloud: FakeCloud;
let agent: ClientCert;
let stranger: ClientCert;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-cloud-ing-'));
  cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }] });
  await cloud.start();
  [agent, stranger] = await Promise.all([makeAgentCert(WS, 'linux'), makeAgentCert(WS, 'linux')]);
  const body = topologyXml({ fqdn: 'db-01', agentId: agent.agentId, pemBody: agent.pemBody });
  const r = await request({ port: cloud.port, host: `${WS}.oms.opinsights.azure.com`, path: '/AgentService.svc/LinuxAgentTopologyRequest', ca: cloud.caCertPem, cert: agent, headers: signedHeaders(WS, KEY, body, omsadminDate(Date.now())), body });
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => cloud.ledger.reset());

function perfPost(ids: string[], extra = 0): string {
  const items = ids.map((id) => ({ [RECORD_ID_FIELD]: id, Timestamp: '2016-03-01T09:00:00Z', Host: 'db-01', ObjectName: 'Processor', Collections: [{ CounterName: '% Processor Time', Value: 12.5 }] }));
  for (let i = 0; i < extra; i++) items.push({ Timestamp: 't', Host: 'db-01' } as never);
  return JSON.stringify({ DataType: 'LINUX_PERF_BLOB', IPName: 'LogManagement', DataItems: items });
}

describe('PostJsonDataItems', () => {
  test('deflate (through CONNECT) and plain (direct) bodies from a registered agent are counted exactly', async () => {
    const a = perfPost(['r1', 'r2', 'r3']);
    const b = perfPost(['r4'], 2);
    const deflated = deflateSync(a);
    const r1 = await request({ port: cloud.port, host: ODS, path: ODS_PATH, ca: cloud.caCertPem, cert: agent, viaConnect: true, headers: { 'content-type': 'application/json', 'content-encoding': 'deflate', 'x-request-id': 'req-1' }, body: deflated });
    expect(r1.status).toBe(200);
    expect(r1.headers['x-request-id']).toBe('req-1');
    const r2 = await request({ port: cloud.port, host: ODS, path: ODS_PATH, ca: cloud.caCertPem, cert: agent, headers: { 'content-type': 'application/json' }, body: b });
    expect(r2.status).toBe(200);
    expect(cloud.ledger.summary()).toEqual([
      { workspaceId: WS, agentId: agent.agentId, dataType: 'LINUX_PERF_BLOB', posts: 2, records: 6, bytes: deflated.length + Buffer.byteLength(b), decodedBytes: Buffer.byteLength(a) + Buffer.byteLength(b), recordIds: ['r1', 'r2', 'r3', 'r4'], duplicateRecordIds: 0 },
    ]);
  });

  test('a retried post shows as duplicate record ids', async () => {
    const body = perfPost(['d1']);
    for (let i = 0; i < 2; i++) expect((await request({ port: cloud.port, host: ODS, path: ODS_PATH, ca: cloud.caCertPem, cert: agent, body })).status).toBe(200);
    expect(cloud.ledger.summary()[0]).toMatchObject({ posts: 2, records: 2, recordIds: ['d1'], duplicateRecordIds: 1 });
  });

  test.each([
    ['no client certificate', undefined, 403, /"Error":"MissingCertificate"/],
    ['an unregistered certificate', 'stranger', 403, /"Error":"UnknownAgent"/],
  ] as const)('%s is refused and nothing is counted', async (_n, who, status, body) => {
    const r = await request({ port: cloud.port, host: ODS, path: ODS_PATH, ca: cloud.caCertPem, cert: who ? stranger : undefined, body: perfPost(['x']) });
    expect(r.status).toBe(status);
    expect(r.body).toMatch(body);
    expect(cloud.ledger.totals().posts).toBe(0);
  });

  test.each([
    ['not JSON', 'plain', '{"DataType":', 400, /not JSON/],
    ['DataItems missing', 'plain', '{"DataType":"X","IPName":"LogManagement"}', 400, /DataItems must be an array/],
    ['broken deflate', 'deflate', 'definitely not zlib', 400, /not valid deflate/],
  ])('bad body: %s', async (_n, enc, body, status, msg) => {
    const r = await request({ port: cloud.port, host: ODS, path: ODS_PATH, ca: cloud.caCertPem, cert: agent, headers: enc === 'deflate' ? { 'content-encoding': 'deflate' } : {}, body });
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body).Message).toMatch(msg);
    expect(cloud.ledger.totals().posts).toBe(0);
  });
});

describe('HTTP Data Collector API', () => {
  // Built from the published algorithm, not the server's helper.
  function dcHeaders(body: string, key = KEY, date = new Date().toUTCString()): Record<string, string> {
    const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`POST\n${Buffer.byteLength(body)}\napplication/json\nx-ms-date:${date}\n/api/logs`).digest('base64');
    return { 'content-type': 'application/json', 'Log-Type': 'OmsgwLab', 'x-ms-date': date, Authorization: `SharedKey ${WS}:${sig}` };
  }
  const body = JSON.stringify([{ [RECORD_ID_FIELD]: 'dc1', Message: 'hello' }, { [RECORD_ID_FIELD]: 'dc2', Message: 'world' }]);

  test('valid signature is accepted and counted under the Log-Type', async () => {
    const r = await request({ port: cloud.port, host: ODS, path: '/api/logs?api-version=2016-04-01', ca: cloud.caCertPem, viaConnect: true, headers: dcHeaders(body), body });
    expect(r.status).toBe(200);
    expect(cloud.ledger.summary()).toEqual([expect.objectContaining({ agentId: DATA_COLLECTOR_AGENT, dataType: 'OmsgwLab', records: 2, recordIds: ['dc1', 'dc2'] })]);
  });

  test.each([
    ['wrong key', () => dcHeaders(body, Buffer.alloc(32, 9).toString('base64')), 403, /"Error":"InvalidAuthorization".*invalid scheme or signature/],
    ['Authorization naming another workspace', () => ({ ...dcHeaders(body), Authorization: dcHeaders(body).Authorization!.replace(WS, '00000000-1111-2222-3333-444444444444') }), 403, /names workspace 00000000-1111-2222-3333-444444444444 but the request was sent to/],
    ['no Authorization', () => { const { Authorization: _a, ...h } = dcHeaders(body); return h; }, 403, /Authorization must be \\"SharedKey <workspaceId>:<base64 signature>\\"/],
    ['signature over another length', () => dcHeaders(body + ' '), 403, /invalid scheme or signature/],
    ['stale date', () => dcHeaders(body, KEY, new Date(Date.now() - 20 * 60_000).toUTCString()), 403, /"Error":"InvalidAuthorization".*more than 15 minutes/],
    ['bad Log-Type', () => ({ ...dcHeaders(body), 'Log-Type': 'has-dash' }), 400, /InvalidLogType/],
  ])('%s', async (_n, headers, status, msg) => {
    const r = await request({ port: cloud.port, host: ODS, path: '/api/logs?api-version=2016-04-01', ca: cloud.caCertPem, headers: headers(), body });
    expect(r.status).toBe(status);
    expect(r.body).toMatch(msg);
    expect(cloud.ledger.totals().posts).toBe(0);
  });

  test('wrong api-version', async () => {
    const r = await request({ port: cloud.port, host: ODS, path: '/api/logs?api-version=2020-01-01', ca: cloud.caCertPem, headers: dcHeaders(body), body });
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/api-version must be 2016-04-01/);
  });
});

describe('automation agent service and blobs', () => {
  const node = () => `/Accounts/${WS}/Nodes(AgentId='${agent.agentId}')`;
  test('DSC: GetDscAction before registration is refused, then register, action, document', async () => {
    const go = (method: string, path: string, cert: ClientCert | null = agent) => request({ port: cloud.port, host: AGENT_SVC, path, method, ca: cloud.caCertPem, cert: cert ?? undefined, viaConnect: true, headers: { 'content-type': 'application/json', ProtocolVersion: '2.0' }, body: '{}' });
    expect((await go('POST', `${node()}/GetDscAction`)).status).toBe(404);
    expect((await go('PUT', node(), stranger)).status).toBe(403);
    expect((await go('PUT', node(), null)).status).toBe(401);
    const reg = await go('PUT', node());
    expect(reg.status).toBe(200);
    expect(JSON.parse(reg.body)).toEqual({ AgentId: agent.agentId, NodeStatus: 'Registered' });
    expect(JSON.parse((await go('POST', `${node()}/GetDscAction`)).body)).toMatchObject({ NodeStatus: 'Ok' });
    const doc = await go('GET', `${node()}/Configurations(ConfigurationName='MicrosoftOperationsManagementLinuxConfiguration')/Content`);
    expect(doc.status).toBe(200);
    expect(doc.body).toContain('OMI_ConfigurationDocument');
    expect((await go('POST', `${node()}/GetDscDocument`)).status).toBe(200);
    expect(cloud.agents().find((a) => a.agentId === agent.agentId)).toMatchObject({ dscRegistered: true, dscCalls: 7 - 2 });
  });

  test('blob PUT then GET', async () => {
    const host = 'omsgwlab.blob.core.windows.net';
    const put = await request({ port: cloud.port, host, path: '/c/b1', method: 'PUT', ca: cloud.caCertPem, headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'blob-content' });
    expect(put.status).toBe(201);
    const get = await request({ port: cloud.port, host, path: '/c/b1', method: 'GET', ca: cloud.caCertPem });
    expect(get).toMatchObject({ status: 200, body: 'blob-content' });
    expect((await request({ port: cloud.port, host, path: '/c/none', method: 'GET', ca: cloud.caCertPem })).status).toBe(404);
    expect((await request({ port: cloud.port, host, path: '/c/b2', method: 'PUT', ca: cloud.caCertPem, body: 'x' })).status).toBe(400);
  });
});
