import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import { createFakeCloud, type FakeCloud } from '../index.js';
import { makeAgentCert, omsadminDate, reasonOf, request, signedHeaders, topologyXml, type ClientCert } from './helpers.js';

const WS = '6f1b4d2a-3c5e-4f70-8a9b-0c1d2e3f4a5b';
const KEY = Buffer.alloc(64, 0x5a).toString('base64');
const OTHER_WS = '0a0b0c0d-0e0f-4011-8213-141516171819';
const OTHER_KEY = Buffer.alloc(64, 0x33).toString('base64');
const T0 = Date.UTC(2016, 2, 1, 9, 0, 0);
const OMS = `${WS}.oms.opinsights.azure.com`;
const LINUX_PATH = '/AgentService.svc/LinuxAgentTopologyRequest';
const WINDOWS_PATH = '/AgentService.svc/AgentTopologyRequest';

let dir: string;
let cloud: FakeCloud;
let clock: ManualClock;
let linux: ClientCert;
let windows: ClientCert;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-cloud-onb-'));
  clock = new ManualClock(T0);
  cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }, { id: OTHER_WS, key: OTHER_KEY }], clock });
  await cloud.start();
  [linux, windows] = await Promise.all([makeAgentCert(WS, 'linux'), makeAgentCert(WS, 'windows')]);
});
afterAll(async () => {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
});

function onboard(o: { cert?: ClientCert; path?: string; host?: string; body?: string; headers?: Record<string, string>; viaConnect?: boolean; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }) {
  const cert = o.cert ?? linux;
  const body = o.body ?? topologyXml({ fqdn: 'web-01.contoso.local', agentId: cert.agentId, pemBody: cert.pemBody });
  return request({
    port: cloud.port,
    host: o.host ?? OMS,
    path: o.path ?? LINUX_PATH,
    ca: cloud.caCertPem,
    cert,
    viaConnect: o.viaConnect,
    maxVersion: o.maxVersion,
    headers: o.headers ?? signedHeaders(WS, KEY, body, omsadminDate(clock.now())),
    body,
  });
}

describe('successful onboarding', () => {
  test.each([
    ['Linux, direct TLS 1.2 by SNI', LINUX_PATH, false, 'TLSv1.2'],
    ['Linux, through CONNECT, TLS 1.3', LINUX_PATH, true, 'TLSv1.3'],
  ] as const)('%s', async (_n, path, viaConnect, maxVersion) => {
    const r = await onboard({ path, viaConnect, maxVersion });
    expect(r.status).toBe(200);
    expect(r.tlsVersion).toBe(maxVersion); // the cloud negotiated the newest version the client offered
    expect(r.headers['content-type']).toMatch(/xml/);
    expect(r.body).toContain('<LinuxAgentTopologyResponse ');
    expect(r.body).toContain(`<Endpoint>https://scus-agentservice-prod-1.azure-automation.net/Accounts/${WS}/Nodes(AgentId='${linux.agentId}')</Endpoint>`);
    const agent = cloud.agents().find((a) => a.agentId === linux.agentId);
    expect(agent).toMatchObject({ workspaceId: WS, os: 'linux', fqdn: 'web-01.contoso.local', certificateSubject: `CN=${WS}, CN=${linux.agentId}, OU=Linux Monitoring Agent, O=Microsoft` });
    expect(agent?.thumbprint).toMatch(/^[0-9A-F]{40}$/);
  });

  test('Windows agent through CONNECT gets AgentTopologyResponse without DSC', async () => {
    const r = await onboard({ cert: windows, path: WINDOWS_PATH, viaConnect: true });
    expect(r.status).toBe(200);
    expect(r.body).toContain('<AgentTopologyResponse ');
    expect(r.body).not.toContain('DscConfiguration');
    expect(cloud.agents().find((a) => a.agentId === windows.agentId)).toMatchObject({ os: 'windows', certificateSubject: `CN=${windows.agentId}, CN=${WS}, OU=Microsoft Monitoring Agent, O=Microsoft` });
  });

  test('the date is checked against the injected clock, not the machine clock', async () => {
    // T0 is in 2016: a request dated "now" on this machine is years off for the cloud.
    const body = topologyXml({ fqdn: 'h', agentId: linux.agentId, pemBody: linux.pemBody });
    const r = await onboard({ body, headers: signedHeaders(WS, KEY, body, omsadminDate(Date.now())) });
    expect(r.status).toBe(403);
    expect(reasonOf(r.body)).toMatch(/minutes ahead of the service clock \(2016-03-01T09:00:00.000Z\)/);
  });

  test('heartbeat: a certificate-only request from a registered agent', async () => {
    await clock.advance(20 * 60_000);
    const before = cloud.agents().find((a) => a.agentId === linux.agentId)!.heartbeats;
    const body = topologyXml({ fqdn: 'web-01.contoso.local', agentId: linux.agentId, pemBody: linux.pemBody });
    const r = await onboard({ body, headers: { 'x-ms-Date': omsadminDate(clock.now()) } });
    expect(r.status).toBe(200);
    const agent = cloud.agents().find((a) => a.agentId === linux.agentId)!;
    expect(agent.heartbeats).toBe(before + 1);
    expect(agent.lastSeenAt).toBe(new Date(clock.now()).toISOString());
  });

  test('heartbeat from an unknown certificate is refused', async () => {
    const stranger = await makeAgentCert(WS, 'linux');
    const r = await onboard({ cert: stranger, headers: { 'x-ms-Date': omsadminDate(clock.now()) } });
    expect(r.status).toBe(403);
    expect(reasonOf(r.body)).toMatch(/is not registered; onboard with a signed request first/);
  });
});

describe('rejections: 403 with the reason', () => {
  const body = () => topologyXml({ fqdn: 'h', agentId: linux.agentId, pemBody: linux.pemBody });
  const cases: Array<[string, () => Parameters<typeof onboard>[0], RegExp]> = [
    ['content hash of another body', () => ({ body: body(), headers: { ...signedHeaders(WS, KEY, body(), omsadminDate(clock.now())), 'x-ms-SHA256_Content': signedHeaders(WS, KEY, 'x', 'd')['x-ms-SHA256_Content'] } }), /x-ms-SHA256_Content does not match/],
    ['signed with the wrong key', () => ({ body: body(), headers: signedHeaders(WS, OTHER_KEY, body(), omsadminDate(clock.now())) }), /Invalid Authorization signature/],
    ['signature over a different date', () => ({ body: body(), headers: { ...signedHeaders(WS, KEY, body(), omsadminDate(clock.now())), 'x-ms-Date': omsadminDate(clock.now() + 1000) } }), /Invalid Authorization signature/],
    ['Authorization names another workspace', () => ({ body: body(), headers: signedHeaders(OTHER_WS, OTHER_KEY, body(), omsadminDate(clock.now())) }), new RegExp(`names workspace ${OTHER_WS} but the request was sent to workspace ${WS}`)],
    ['date 16 minutes old', () => ({ body: body(), headers: signedHeaders(WS, KEY, body(), omsadminDate(clock.now() - 16 * 60_000)) }), /16 minutes behind the service clock/],
    ['unknown workspace host', () => ({ host: '99999999-9999-4999-8999-999999999999.oms.opinsights.azure.com', body: body(), headers: signedHeaders('99999999-9999-4999-8999-999999999999', KEY, body(), omsadminDate(clock.now())) }), /Unknown workspace 99999999/],
    ['malformed XML', () => { const b = '<AgentTopologyRequest><EntityTypeId>'; return { body: b, headers: signedHeaders(WS, KEY, b, omsadminDate(clock.now())) }; }, /Malformed XML/],
    ['correctly spelt FullyQualifiedDomainName', () => { const b = topologyXml({ agentId: linux.agentId, pemBody: linux.pemBody, extra: '<FullyQualifiedDomainName>h</FullyQualifiedDomainName>' }); return { body: b, headers: signedHeaders(WS, KEY, b, omsadminDate(clock.now())) }; }, /Missing element FullyQualfiedDomainName \(the service expects the misspelt/],
    ['missing AuthenticationCertificate', () => { const b = topologyXml({ fqdn: 'h', agentId: linux.agentId }); return { body: b, headers: signedHeaders(WS, KEY, b, omsadminDate(clock.now())) }; }, /Missing element AuthenticationCertificate/],
    ['certificate of another agent in the body', () => { const b = topologyXml({ fqdn: 'h', agentId: linux.agentId, pemBody: windows.pemBody }); return { body: b, headers: signedHeaders(WS, KEY, b, omsadminDate(clock.now())) }; }, /must contain CN=.* and CN=/],
  ];
  test.each(cases)('%s', async (_n, make, reason) => {
    const before = cloud.agents().length;
    const r = await onboard(make());
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^<\?xml/);
    expect(reasonOf(r.body)).toMatch(reason);
    expect(cloud.agents()).toHaveLength(before);
  });

  test.each([
    ['exactly 15 minutes behind', -15 * 60_000, 200, undefined],
    ['exactly 15 minutes ahead', 15 * 60_000, 200, undefined],
    ['15 minutes and 1 s behind', -(15 * 60_000 + 1000), 403, /15 minutes behind the service clock .*allowed skew is 15 minutes/],
    ['15 minutes and 1 s ahead', 15 * 60_000 + 1000, 403, /15 minutes ahead of the service clock .*allowed skew is 15 minutes/],
  ] as const)('date skew %s', async (_n, offset, status, reason) => {
    const b = body();
    const r = await onboard({ body: b, headers: signedHeaders(WS, KEY, b, omsadminDate(clock.now() + offset)) });
    expect(r.status).toBe(status);
    if (reason) expect(reasonOf(r.body)).toMatch(reason);
    else expect(r.body).toContain('<LinuxAgentTopologyResponse ');
  });

  test('TLS client certificate differing from the body certificate', async () => {
    const other = await makeAgentCert(WS, 'linux');
    const b = topologyXml({ fqdn: 'h', agentId: other.agentId, pemBody: other.pemBody });
    const r = await onboard({ cert: linux, body: b, headers: signedHeaders(WS, KEY, b, omsadminDate(clock.now())) });
    expect(r.status).toBe(403);
    expect(reasonOf(r.body)).toMatch(/TLS client certificate .* is not the AuthenticationCertificate/);
  });

  test('unknown operation and wrong method', async () => {
    expect((await request({ port: cloud.port, host: OMS, path: '/AgentService.svc/Nope', ca: cloud.caCertPem, body: '' })).status).toBe(404);
    expect((await request({ port: cloud.port, host: OMS, path: LINUX_PATH, method: 'GET', ca: cloud.caCertPem })).status).toBe(405);
  });
});
