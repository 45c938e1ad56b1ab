/**
 * The fake cloud's Azure Monitor Agent endpoints on real TLS (direct, by SNI): the handlers, the
 * tokens they accept and refuse, ODS and DCE ingestion, the loopback IMDS and the lab API. Tokens
 * are built here from the documented lab derivation, independent of the server's code.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { request as undiciRequest } from 'undici';
import { ManualClock } from '../../lib/clock.js';
import { createFakeCloud, type FakeCloud } from '../index.js';
import { ImdsServer } from '../ama/imds.js';
import { request, type Resp } from './helpers.js';

const WS = '0b8c9d2e-3f4a-4b5c-8d6e-7f8091a2b3c4';
const OTHER_WS = '1c9d0e3f-4a5b-4c6d-9e7f-8091a2b3c4d5';
const KEY = Buffer.from('fake cloud ama test key 32 bytes').toString('base64');
const SUB = '11111111-2222-4333-8444-555555555555';
const RG = `omsgw-${WS}`;
const VM = 'vm-ama-1';
const RID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/${VM}`;
const PRINCIPAL = '99999999-8888-4777-8666-555555555555';
const CONFIG_PATH = `/locations/eastus/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/${VM}/agentConfigurations?platform=linux&includeMeConfig=true&api-version=2022-06-02`;

let dir: string;
let clock: ManualClock;
let cloud: FakeCloud;
let key: Buffer;

function jwt(claims: Record<string, unknown>, k = key): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${h}.${p}.${createHmac('sha256', k).update(`${h}.${p}`).digest('base64url')}`;
}
const nowSec = () => Math.floor(clock.now() / 1000);
const msi = (extra: Record<string, unknown> = {}) => jwt({ aud: 'https://monitor.azure.com/', exp: nowSec() + 3600, nbf: nowSec(), oid: PRINCIPAL, xms_mirid: RID, ...extra });

function get(host: string, path: string, token?: string): Promise<Resp> {
  return request({ port: cloud.port, host, path, method: 'GET', ca: cloud.caCertPem, headers: token ? { authorization: `Bearer ${token}` } : {} });
}
function post(host: string, path: string, body: Buffer, headers: Record<string, string>): Promise<Resp> {
  return request({ port: cloud.port, host, path, method: 'POST', body, ca: cloud.caCertPem, headers });
}
const errorOf = (r: Resp) => (JSON.parse(r.body) as { error: { code: string; message: string } }).error;

async function ingestionToken(channel = `ods-${WS}`): Promise<string> {
  const cfg = JSON.parse((await get('global.handler.control.monitor.azure.com', CONFIG_PATH, msi())).body);
  const ch = cfg.configurations[0].content.channels.find((c: { id: string }) => c.id === channel);
  const u = new URL(ch.tokenEndpointUri);
  const r = await get(u.hostname, u.pathname + u.search, msi());
  expect(r.status).toBe(200);
  return JSON.parse(r.body).ingestionAuthToken;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-ama-cloud-'));
  clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }, { id: OTHER_WS, key: KEY }], clock, adminPort: 0 });
  await cloud.start();
  key = createHash('sha256').update('omsgw lab token key\n').update(cloud.caCertPem.trim()).digest();
});
afterEach(() => cloud.ama.update({ configVia: 'global', dcr: 'valid', dce: null }));
afterAll(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the global handler serves the configuration: one DCR, a syslog source to the ODS channel, its token endpoint on the regional handler', async () => {
  const r = await get('global.handler.control.monitor.azure.com', CONFIG_PATH, msi());
  expect(r.status).toBe(200);
  const c = JSON.parse(r.body).configurations[0];
  expect(c.configurationId).toMatch(/^dcr-[0-9a-f]{32}$/);
  expect(c.content.dataSources[0]).toMatchObject({ kind: 'syslog', streams: [{ stream: 'LINUX_SYSLOGS_BLOB', solution: 'LogManagement' }], sendToChannels: [`ods-${WS}`] });
  expect(c.content.channels[0]).toMatchObject({ id: `ods-${WS}`, protocol: 'ods', endpoint: `https://${WS}.ods.opinsights.azure.com` });
  expect(new URL(c.content.channels[0].tokenEndpointUri).hostname).toBe('eastus.handler.control.monitor.azure.com');
  expect((await get('global.handler.control.monitor.azure.com', '/ping')).body).toBe('Healthy');
});

test.each([
  ['no token', undefined, 'InvalidToken'],
  ['an expired token', () => msi({ exp: nowSec() - 1 }), 'TokenExpired'],
  ['a token for another audience', () => msi({ aud: 'https://management.azure.com/' }), 'InvalidAudience'],
  ['a token signed with another key', () => jwt({ aud: 'https://monitor.azure.com/', exp: nowSec() + 60, xms_mirid: RID }, Buffer.alloc(32, 7)), 'InvalidToken'],
])('the handler answers %s with 401 and the error code', async (_what, token, code) => {
  const r = await get('global.handler.control.monitor.azure.com', CONFIG_PATH, typeof token === 'function' ? token() : token);
  expect(r.status).toBe(401);
  expect(r.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  expect(errorOf(r).code).toBe(code);
});

test("another machine's token is 403; a machine with no association gets an empty configuration list", async () => {
  const other = await get('global.handler.control.monitor.azure.com', CONFIG_PATH, msi({ xms_mirid: RID.replace(VM, 'vm-other') }));
  expect(other.status).toBe(403);
  expect(errorOf(other).code).toBe('AuthorizationFailed');
  const rid = RID.replace(RG, 'rg-unassociated');
  const none = await get('global.handler.control.monitor.azure.com', CONFIG_PATH.replace(RG, 'rg-unassociated'), msi({ xms_mirid: rid }));
  expect(none.status).toBe(200);
  expect(JSON.parse(none.body)).toEqual({ configurations: [] });
});

test('configVia dce: the global handler answers 421 MisdirectedAgentRequest naming the DCE handler, which serves the configuration', async () => {
  cloud.ama.update({ dce: 'lab-dce', configVia: 'dce' });
  const r = await get('global.handler.control.monitor.azure.com', CONFIG_PATH, msi());
  expect(r.status).toBe(421);
  expect(errorOf(r)).toEqual({ code: 'MisdirectedAgentRequest', message: "Agent configuration needs to be acquired from 'https://lab-dce.eastus-1.handler.control.monitor.azure.com' endpoint which was configured for this resource." });
  const d = await get('lab-dce.eastus-1.handler.control.monitor.azure.com', CONFIG_PATH, msi());
  expect(d.status).toBe(200);
  const gig = JSON.parse(d.body).configurations[0].content.channels.find((c: { protocol: string }) => c.protocol === 'gig');
  expect(gig.endpointUriTemplate).toMatch(/^https:\/\/lab-dce\.eastus-1\.ingest\.monitor\.azure\.com\/dataCollectionRules\/dcr-[0-9a-f]{32}\/streams\/<STREAM>\?api-version=/);
});

test('ODS ingestion with the ingestion token: 200 and ledgered by principal; the wrong workspace is 403; an expired token 401', async () => {
  const token = await ingestionToken();
  const body = deflateSync(Buffer.from(JSON.stringify({ DataType: 'LINUX_SYSLOGS_BLOB', IPName: 'LogManagement', DataItems: [{ omsgwRecordId: 'ama-ods-1', Message: 'x' }] })));
  const headers = { authorization: `Bearer ${token}`, 'content-encoding': 'deflate', 'content-type': 'application/json' };
  const ok = await post(`${WS}.ods.opinsights.azure.com`, '/OperationalData.svc/PostJsonDataItems?api-version=2016-04-01', body, headers);
  expect(ok.status).toBe(200);
  expect(cloud.ledger.summary({ agentId: PRINCIPAL }).flatMap((e) => e.recordIds)).toContain('ama-ods-1');
  const wrong = await post(`${OTHER_WS}.ods.opinsights.azure.com`, '/OperationalData.svc/PostJsonDataItems?api-version=2016-04-01', body, headers);
  expect(wrong.status).toBe(403);
  expect(errorOf(wrong).code).toBe('WrongWorkspace');
  const msiAsIngestion = await post(`${WS}.ods.opinsights.azure.com`, '/OperationalData.svc/PostJsonDataItems', body, { ...headers, authorization: `Bearer ${msi()}` });
  expect(msiAsIngestion.status).toBe(401);
  expect(errorOf(msiAsIngestion).code).toBe('InvalidAudience');
  await clock.advance(25 * 3_600_000);
  const expired = await post(`${WS}.ods.opinsights.azure.com`, '/OperationalData.svc/PostJsonDataItems', body, headers);
  expect(expired.status).toBe(401);
  expect(errorOf(expired).code).toBe('TokenExpired');
});

test('DCE ingestion: 204 for a declared stream, 400 for another stream, 413 over 1 MB', async () => {
  cloud.ama.update({ dce: 'lab-dce' });
  const token = await ingestionToken(`gigl-dce-${createHash('sha256').update('dce:lab-dce').digest('hex').slice(0, 32)}`);
  const cfg = JSON.parse((await get('global.handler.control.monitor.azure.com', CONFIG_PATH, msi())).body);
  const dcr = cfg.configurations[0].configurationId;
  const host = 'lab-dce.eastus-1.ingest.monitor.azure.com';
  const headers = { authorization: `Bearer ${token}`, 'content-encoding': 'gzip', 'content-type': 'application/json' };
  const ok = await post(host, `/dataCollectionRules/${dcr}/streams/Custom-OmsgwApp_CL?api-version=2021-11-01-preview`, gzipSync(JSON.stringify([{ omsgwRecordId: 'ama-dce-1' }])), headers);
  expect(ok.status).toBe(204);
  expect(cloud.ledger.summary({ agentId: PRINCIPAL }).find((e) => e.dataType === 'Custom-OmsgwApp_CL')?.recordIds).toEqual(['ama-dce-1']);
  const stream = await post(host, `/dataCollectionRules/${dcr}/streams/Custom-Other_CL?api-version=2021-11-01-preview`, gzipSync('[]'), headers);
  expect([stream.status, errorOf(stream).code]).toEqual([400, 'InvalidStream']);
  const big = await post(host, `/dataCollectionRules/${dcr}/streams/Custom-OmsgwApp_CL?api-version=2021-11-01-preview`, Buffer.alloc(1024 * 1024 + 1, 0x20), { ...headers, 'content-encoding': 'identity' });
  expect([big.status, errorOf(big).code]).toEqual([413, 'ContentLengthLimitExceeded']);
});

test('the loopback IMDS: Metadata header required, proxied requests refused, tokens for the resource asked', async () => {
  const imds = new ImdsServer({ caPem: cloud.caCertPem, clock, machine: { subscriptionId: SUB, resourceGroupName: RG, name: VM, location: 'eastus', vmId: 'v', principalId: PRINCIPAL, platform: 'linux' } });
  await imds.start();
  try {
    const path = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmonitor.azure.com%2F';
    const noHeader = await undiciRequest(`${imds.url}${path}`);
    expect([noHeader.statusCode, (await noHeader.body.json() as { error_description: string }).error_description]).toEqual([400, 'Required metadata header not specified']);
    const proxied = await undiciRequest(`${imds.url}${path}`, { headers: { metadata: 'true', 'x-forwarded-for': '10.0.0.1' } });
    expect(proxied.statusCode).toBe(400);
    await proxied.body.dump();
    const ok = await undiciRequest(`${imds.url}${path}`, { headers: { metadata: 'true' } });
    const t = (await ok.body.json()) as { access_token: string; token_type: string; resource: string; expires_on: string };
    expect([t.token_type, t.resource, Number(t.expires_on)]).toEqual(['Bearer', 'https://monitor.azure.com/', nowSec() + 86_400]);
    // The token it issued is one the handler accepts for this machine.
    expect((await get('global.handler.control.monitor.azure.com', CONFIG_PATH, t.access_token)).status).toBe(200);
  } finally {
    await imds.close();
  }
});

test('lab API: GET/PUT /_lab/ama; a bad setting is a 400 naming it', async () => {
  const put = await undiciRequest(`${cloud.adminUrl}/_lab/ama`, { method: 'PUT', body: JSON.stringify({ configVia: 'regional' }) });
  expect(put.statusCode).toBe(200);
  expect(((await put.body.json()) as { settings: { configVia: string } }).settings.configVia).toBe('regional');
  const bad = await undiciRequest(`${cloud.adminUrl}/_lab/ama`, { method: 'PUT', body: JSON.stringify({ configVia: 'sideways' }) });
  expect(bad.statusCode).toBe(400);
  expect(((await bad.body.json()) as { error: string }).error).toBe('configVia must be one of global, regional, dce, loop');
  const got = (await (await undiciRequest(`${cloud.adminUrl}/_lab/ama`)).body.json()) as { settings: { region: string }; machines: unknown[] };
  expect(got.settings.region).toBe('eastus');
  expect(Array.isArray(got.machines)).toBe(true);
});

test('bad AMA options to the fake cloud are an input error naming the setting', () => {
  expect(() => createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], ama: { configVia: 'dce' } })).toThrow('ama: configVia "dce" needs a dce name (set dce too)');
  expect(() => createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], ama: { region: 'East US' } })).toThrow('ama: region must be an Azure region name in lower case, like eastus or westus2');
});
