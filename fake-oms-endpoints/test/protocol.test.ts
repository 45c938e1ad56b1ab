import { deflateSync, deflateRawSync } from 'node:zlib';
import { contentHash, dataCollectorSignature, onboardingSignature, parseOnboardingAuthorization, parseSharedKeyAuthorization, isValidSharedKey } from '../protocol/signatures.js';
import { parseTopologyRequest, topologyResponseXml, errorXml } from '../protocol/topology.js';
import { decodeBody, parseOdsPayload, RECORD_ID_FIELD } from '../protocol/ods.js';
import { verifyOnboardingHeaders } from '../protocol/onboarding.js';
import { FaultSet, validateFaultSpec } from '../faults/index.js';
import { IngestionLedger } from '../ledger.js';
import { classifyHost, globMatch, workspaceHostnames } from '../hosts.js';
import { makeAgentCert, signedHeaders, topologyXml } from './helpers.js';

// Fixed vectors computed by hand with openssl (key = bytes 0x00..0x1f):
//   printf '%s' '<AgentTopologyRequest/>' | openssl dgst -sha256 -binary | base64
//   printf '%s\n%s\n' "$DATE" "$HASH" | openssl dgst -sha256 -mac HMAC -macopt hexkey:0001..1f -binary | base64
//   printf 'POST\n24\napplication/json\nx-ms-date:%s\n/api/logs' "$D2" | openssl dgst -sha256 -mac HMAC ... | base64
const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const BODY = '<AgentTopologyRequest/>';
const BODY_HASH = '7kSUMAmZbdI92RWH6CpoWRNzNClfY1qx15qYBD10HO0=';
const DATE = '2016-03-01T09:00:00.000000000+00:00';
const ONBOARD_SIG = 'wY7HKw2LnoDOqUy+BtisBFHYg3hVE6zsfswknZbhVH4=';
const DC_DATE = 'Tue, 01 Mar 2016 09:00:00 GMT';
const DC_SIG = 'AyI8UwZ+CnDXGqy/CJXExLXj9HIKhTnqxrMiKWlET30=';
const WS = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

describe('signature algorithms match the openssl vectors', () => {
  test('content hash and onboarding HMAC', () => {
    expect(contentHash(BODY)).toBe(BODY_HASH);
    expect(onboardingSignature(KEY, DATE, BODY_HASH)).toBe(ONBOARD_SIG);
  });
  test('data collector SharedKey', () => {
    expect(dataCollectorSignature(KEY, 24, 'application/json', DC_DATE)).toBe(DC_SIG);
  });
  test('the test-side header builder agrees with the vector', () => {
    expect(signedHeaders(WS, KEY, BODY, DATE).Authorization).toBe(`${WS}; ${ONBOARD_SIG}`);
  });
  test('authorization header parsing', () => {
    expect(parseOnboardingAuthorization(`${WS}; abc=`)).toEqual({ workspaceId: WS, signature: 'abc=' });
    expect(parseOnboardingAuthorization('nonsense')).toBeUndefined();
    expect(parseSharedKeyAuthorization(`SharedKey ${WS}:abc=`)).toEqual({ workspaceId: WS, signature: 'abc=' });
    expect(parseSharedKeyAuthorization(`Bearer x`)).toBeUndefined();
    expect(isValidSharedKey(KEY)).toBe(true);
    expect(isValidSharedKey('not base64!')).toBe(false);
    expect(isValidSharedKey('AAAA')).toBe(false);
  });
});

describe('onboarding header verification', () => {
  const now = Date.parse('2016-03-01T09:00:00Z');
  const base = { body: Buffer.from(BODY), hostWorkspaceId: WS, keyOf: (w: string) => (w === WS ? KEY : undefined), now };
  const good = () => ({ 'x-ms-date': DATE, 'x-ms-sha256_content': BODY_HASH, authorization: `${WS}; ${ONBOARD_SIG}` });
  test('accepts the vector', () => {
    expect(verifyOnboardingHeaders({ ...base, headers: good() })).toEqual({ ok: true, date: now });
  });
  test.each([
    ['missing date', { 'x-ms-date': undefined }, /Missing x-ms-Date/],
    ['garbage date', { 'x-ms-date': 'yesterday' }, /Invalid x-ms-Date/],
    ['hash of another body', { 'x-ms-sha256_content': contentHash('other') }, /does not match the SHA-256/],
    ['no authorization', { authorization: undefined }, /Missing Authorization/],
    ['malformed authorization', { authorization: 'SharedKey x:y' }, /Malformed Authorization/],
    ['other workspace in authorization', { authorization: `aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa; ${ONBOARD_SIG}` }, /names workspace aaaaaaaa/],
    ['wrong signature', { authorization: `${WS}; ${onboardingSignature(Buffer.alloc(32, 1).toString('base64'), DATE, BODY_HASH)}` }, /Invalid Authorization signature/],
  ])('%s', (_name, patch, reason) => {
    const r = verifyOnboardingHeaders({ ...base, headers: { ...good(), ...patch } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
  test('skew: 15 minutes is fine, 15 minutes and 1 second is not, both directions', () => {
    const at = (ms: number) => verifyOnboardingHeaders({ ...base, now: now + ms, headers: good() });
    expect(at(15 * 60_000).ok).toBe(true);
    expect(at(-15 * 60_000).ok).toBe(true);
    const late = at(15 * 60_000 + 1000);
    expect(!late.ok && late.reason).toMatch(/behind the service clock.*15 minutes/);
    const early = at(-(15 * 60_000 + 1000));
    expect(!early.ok && early.reason).toMatch(/ahead of the service clock/);
  });
});

describe('topology XML', () => {
  test('parses a request like the agent script builds', async () => {
    const cert = await makeAgentCert(WS, 'linux');
    const r = parseTopologyRequest(topologyXml({ fqdn: 'web-01.contoso.local', agentId: cert.agentId, pemBody: cert.pemBody }));
    expect(r.ok && r.request).toMatchObject({ fqdn: 'web-01.contoso.local', entityTypeId: cert.agentId, operatingSystem: { name: 'Ubuntu', version: '16.04' } });
  });
  test.each([
    ['', /Malformed XML: empty/],
    ['<AgentTopologyRequest><EntityTypeId>x</AgentTopologyRequest>', /Malformed XML/],
    ['<Other/>', /root element must be AgentTopologyRequest, found Other/],
    [topologyXml({ agentId: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', pemBody: 'AAAA' }), /Missing element FullyQualfiedDomainName$/],
    [topologyXml({ agentId: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', pemBody: 'AAAA', extra: '<FullyQualifiedDomainName>h</FullyQualifiedDomainName>' }), /misspelt FullyQualfiedDomainName/],
    [topologyXml({ fqdn: 'h', pemBody: 'AAAA' }), /Missing element EntityTypeId/],
    [topologyXml({ fqdn: 'h', agentId: 'not-a-guid', pemBody: 'AAAA' }), /EntityTypeId is not a GUID/],
    [topologyXml({ fqdn: 'h', agentId: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0' }), /Missing element AuthenticationCertificate/],
  ])('rejects %#', (xml, reason) => {
    const r = parseTopologyRequest(xml);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
  test('response has the elements agent_maintenance_script.rb reads, and the reason is sed-extractable', () => {
    const xml = topologyResponseXml({ os: 'linux', workspaceId: WS, agentId: 'a1b2c3d4-0000-0000-0000-000000000001', responseId: 'r' });
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><LinuxAgentTopologyResponse /);
    expect(xml).toContain(`<CertificateUpdateEndpoint updateCertificate="false">https://${WS}.oms.opinsights.azure.com/ConfigurationService.Svc/RenewCertificate</CertificateUpdateEndpoint>`);
    expect(xml).toContain(`<DscConfiguration><Endpoint>https://scus-agentservice-prod-1.azure-automation.net/Accounts/${WS}/Nodes(AgentId='a1b2c3d4-0000-0000-0000-000000000001')</Endpoint>`);
    expect(/<Reason>(.*)<\/Reason>/.exec(errorXml('bad\nthing <x>'))?.[1]).toBe('bad thing &lt;x&gt;');
  });
});

describe('ODS bodies', () => {
  const payload = JSON.stringify({ DataType: 'LINUX_PERF_BLOB', IPName: 'LogManagement', DataItems: [{ [RECORD_ID_FIELD]: 'a' }, { [RECORD_ID_FIELD]: 'b' }, { x: 1 }] });
  test.each([
    ['plain', Buffer.from(payload), undefined],
    ['zlib deflate', deflateSync(payload), 'deflate'],
    ['raw deflate', deflateRawSync(payload), 'deflate'],
  ])('%s', (_n, raw, enc) => {
    const d = decodeBody(raw, enc);
    expect(d.ok).toBe(true);
    const p = d.ok ? parseOdsPayload(d.body) : undefined;
    expect(p?.ok && p.payload).toMatchObject({ dataType: 'LINUX_PERF_BLOB', ipName: 'LogManagement', recordIds: ['a', 'b'] });
    expect(p?.ok && p.payload.items).toHaveLength(3);
  });
  test('bad bodies say what is wrong', () => {
    expect(decodeBody(Buffer.from('nope'), 'deflate')).toMatchObject({ ok: false, status: 400 });
    expect(decodeBody(Buffer.from('x'), 'br')).toMatchObject({ ok: false, status: 415 });
    expect(parseOdsPayload(Buffer.from('{'))).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
    expect(parseOdsPayload(Buffer.from('{"IPName":"x","DataItems":[]}'))).toMatchObject({ ok: false, reason: 'missing or empty DataType' });
    expect(parseOdsPayload(Buffer.from('{"DataType":"x","IPName":"y","DataItems":{}}'))).toMatchObject({ ok: false, reason: 'DataItems must be an array' });
  });
});

describe('faults, ledger, hosts', () => {
  test('fault validation names the problem', () => {
    expect(() => validateFaultSpec({ type: 'boom' })).toThrow(/type must be one of/);
    expect(() => validateFaultSpec({ type: 'status', status: 404 })).toThrow(/fault status must be one of 429, 500, 502, 503, 504, got 404/);
    expect(() => validateFaultSpec({ type: 'latency' })).toThrow(/latencyMs/);
    expect(() => validateFaultSpec({ type: 'reset', probability: 2 })).toThrow(/probability/);
    expect(() => validateFaultSpec({ type: 'reset', count: 0 })).toThrow(/count/);
    expect(() => validateFaultSpec({ type: 'reset', colour: 'red' })).toThrow(/fault has an unknown field "colour"/);
  });
  test.each([
    [{ type: 'reset', latencyMs: 100 }, /"latencyMs" applies only to latency faults, not reset/],
    [{ type: 'latency', latencyMs: 10, status: 503 }, /"status" applies only to status faults, not latency/],
    [{ type: 'hang', retryAfterSeconds: 5 }, /"retryAfterSeconds" applies only to status faults, not hang/],
    [{ type: 'refuse-tls', path: '/x' }, /"path" applies only to reset, hang, latency, status faults, not refuse-tls/],
  ])('a field the fault type would ignore is refused: %j', (spec, msg) => {
    expect(() => validateFaultSpec(spec)).toThrow(msg);
  });
  test('addAll adds every fault or none', () => {
    const f = new FaultSet();
    f.add({ id: 'taken', type: 'hang' });
    expect(() => f.addAll([{ type: 'reset' }, { type: 'status', status: 418 }])).toThrow(/^fault 2 of 2: fault status must be one of 429, 500, 502, 503, 504, got 418$/);
    expect(() => f.addAll([{ id: 'n', type: 'reset' }, { id: 'n', type: 'hang' }])).toThrow(/a fault with id n already exists/);
    expect(() => f.addAll([{ type: 'reset' }, { id: 'taken', type: 'reset' }])).toThrow(/a fault with id taken already exists/);
    expect(f.list().map((x) => x.id)).toEqual(['taken']);
    expect(f.addAll([{ id: 'p', type: 'reset' }, { id: 'q', type: 'latency', latencyMs: 5 }]).map((x) => x.id)).toEqual(['p', 'q']);
    expect(f.list().map((x) => x.id)).toEqual(['taken', 'p', 'q']);
  });
  test('count, probability, host and path globs', () => {
    const rolls = [0.9, 0.1];
    const f = new FaultSet(() => rolls.shift() ?? 0);
    f.add({ id: 'a', type: 'reset', host: '*.ods.opinsights.azure.com', path: '/OperationalData.svc/*', count: 2 });
    const fire = (host: string, path: string) => f.fire('request', { host, path }).map((x) => x.id);
    expect(fire('x.oms.opinsights.azure.com', '/OperationalData.svc/PostJsonDataItems')).toEqual([]);
    expect(fire('x.ods.opinsights.azure.com', '/api/logs')).toEqual([]);
    expect(fire('X.ODS.opinsights.azure.com', '/OperationalData.svc/PostJsonDataItems')).toEqual(['a']);
    expect(fire('x.ods.opinsights.azure.com', '/OperationalData.svc/PostJsonDataItems')).toEqual(['a']);
    expect(fire('x.ods.opinsights.azure.com', '/OperationalData.svc/PostJsonDataItems')).toEqual([]);
    expect(f.list().find((x) => x.id === 'a')).toMatchObject({ hits: 2, remaining: 0 });
    f.add({ id: 'b', type: 'status', status: 503, probability: 0.5 });
    expect(f.fire('request', { host: 'h', path: '/' })).toHaveLength(0); // roll 0.9 >= 0.5
    expect(f.fire('request', { host: 'h', path: '/' })[0]).toMatchObject({ status: 503, retryAfterSeconds: 30 }); // roll 0.1
    // A handshake fault is judged on the SNI alone and never fires for a request (nor a request fault for a handshake).
    f.add({ id: 'c', type: 'refuse-tls', host: 'x.oms.opinsights.azure.com' });
    expect(f.fire('handshake', { host: 'X.oms.opinsights.azure.com' }).map((x) => x.id)).toEqual(['c']);
    expect(f.fire('request', { host: 'x.oms.opinsights.azure.com', path: '/' }).map((x) => x.id)).toEqual(['b']);
    expect(() => f.add({ id: 'b', type: 'hang' })).toThrow(/already exists/);
    expect(f.remove('b')).toBe(true);
    f.clear();
    expect(f.list()).toEqual([]);
  });
  test('ledger counts, dedupes record ids, resets', () => {
    const l = new IngestionLedger();
    l.record({ workspaceId: 'w', agentId: 'a', dataType: 'T', records: 2, bytes: 10, decodedBytes: 20, recordIds: ['1', '2'] });
    l.record({ workspaceId: 'w', agentId: 'a', dataType: 'T', records: 1, bytes: 5, decodedBytes: 9, recordIds: ['2'] });
    expect(l.summary()).toEqual([{ workspaceId: 'w', agentId: 'a', dataType: 'T', posts: 2, records: 3, bytes: 15, decodedBytes: 29, recordIds: ['1', '2'], duplicateRecordIds: 1 }]);
    expect(l.has('1')).toBe(true);
    l.reset();
    expect(l.totals()).toEqual({ posts: 0, records: 0, bytes: 0, decodedBytes: 0 });
  });
  test('host classification', () => {
    expect(classifyHost(`${WS}.OMS.opinsights.azure.com:443`)).toEqual({ kind: 'oms', workspaceId: WS });
    expect(classifyHost(`${WS}.ods.opinsights.azure.com`)).toEqual({ kind: 'ods', workspaceId: WS });
    expect(classifyHost('scus-agentservice-prod-1.azure-automation.net').kind).toBe('agentservice');
    expect(classifyHost('x.blob.core.windows.net').kind).toBe('blob');
    expect(classifyHost('example.com').kind).toBe('unknown');
    expect(workspaceHostnames(WS)).toContain('scus-agentservice-prod-1.azure-automation.net');
    expect(globMatch('*.b.c', 'a.b.c')).toBe(true);
    expect(globMatch('*.b.c', 'a.bxc')).toBe(false);
  });
});
