/** The CONNECT policy as a pure function: request head + live settings → accept or a refusal (no sockets). */
import { ServerAllowlist } from '../allowlist/server-allowlist.js';
import { judge, refusalForHead, type JudgeSettings } from '../connect/judge.js';
import { parseHead, type RequestHead } from '../connect/request-head.js';
import { ProxyCredentials } from '../live-settings.js';
import { REFUSALS, refusalResponse } from '../statuses.js';

const HOST = 'ws1.oms.opinsights.azure.com';
const settings = (o: Partial<JudgeSettings> = {}): JudgeSettings => ({ allowlist: new ServerAllowlist([HOST]), allowedPorts: new Set([443]), ...o });

function head(text: string): RequestHead {
  const parsed = parseHead(text);
  if (typeof parsed === 'string') throw new Error(`test head does not parse: ${parsed}`);
  return { ...parsed, rest: Buffer.alloc(0) };
}
const connect = (target: string, extra = '') => head(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}${extra}`);

describe('judge', () => {
  test('an allowed host on an allowed port is accepted, with the normalised target', () => {
    expect(judge(connect('WS1.OMS.opinsights.azure.com.:443'), settings())).toEqual({
      verdict: 'accept',
      authority: { host: HOST, port: 443, kind: 'dns', display: `${HOST}:443` },
    });
  });

  test.each([
    ['not CONNECT', head('GET http://x/ HTTP/1.1\r\nHost: x'), { kind: 'not-connect', detail: 'GET http://x/', fields: { method: 'GET' } }],
    ['a declared body', connect(`${HOST}:443`, '\r\nContent-Length: 5'), { kind: 'malformed', answer: 'Bad request: a CONNECT request must not declare a body (Content-Length/Transfer-Encoding)' }],
    ['chunked', connect(`${HOST}:443`, '\r\nTransfer-Encoding: chunked'), { kind: 'malformed' }],
    ['a target with userinfo', connect(`u@${HOST}:443`), { kind: 'malformed', detail: expect.stringMatching(/must be host:port only/) }],
  ])('%s: refused before the target is known (no 103)', (_n, h, expected) => {
    const j = judge(h, settings());
    expect(j).toEqual({ verdict: 'refuse', refusal: expect.objectContaining(expected) });
    expect('authority' in j).toBe(false);
  });

  test('Content-Length: 0 is no body: accepted', () => {
    expect(judge(connect(`${HOST}:443`, '\r\nContent-Length: 0'), settings()).verdict).toBe('accept');
  });

  test('a host not on the allowlist: forbidden-host, target known (103 first)', () => {
    const j = judge(connect('evil.example:443'), settings());
    expect(j).toEqual({
      verdict: 'refuse',
      authority: expect.objectContaining({ host: 'evil.example', port: 443 }),
      refusal: { kind: 'forbidden-host', detail: 'Target host (evil.example) is forbidden', answer: 'Target host (evil.example) is forbidden', target: 'evil.example:443' },
    });
  });

  test('a port not allowed: forbidden-port, naming the allowed ports', () => {
    const j = judge(connect(`${HOST}:8443`), settings({ allowedPorts: new Set([443, 8080]) }));
    expect(j).toMatchObject({
      verdict: 'refuse',
      refusal: { kind: 'forbidden-port', detail: `Target port (8443) of host (${HOST}) is forbidden`, answer: 'Target port (8443) is forbidden; allowed: 443, 8080' },
    });
  });

  test('proxy credentials: missing or wrong → proxy-auth-required before the allowlist is consulted; right → judged on', () => {
    const proxyAuth = new ProxyCredentials('agent', 'pw');
    const basic = (s: string) => `\r\nProxy-Authorization: Basic ${Buffer.from(s).toString('base64')}`;
    expect(judge(connect('evil.example:443'), settings({ proxyAuth }))).toMatchObject({ refusal: { kind: 'proxy-auth-required', detail: 'CONNECT evil.example:443 (no proxy credentials)' } });
    expect(judge(connect(`${HOST}:443`, basic('agent:nope')), settings({ proxyAuth }))).toMatchObject({ refusal: { kind: 'proxy-auth-required', detail: `CONNECT ${HOST}:443 (wrong proxy credentials)` } });
    expect(judge(connect('evil.example:443', basic('agent:pw')), settings({ proxyAuth }))).toMatchObject({ refusal: { kind: 'forbidden-host' } });
    expect(judge(connect(`${HOST}:443`, basic('agent:pw')), settings({ proxyAuth })).verdict).toBe('accept');
  });

  test('the settings decide: the same head is refused, then accepted once the host is allowed', () => {
    const h = connect('added.example:443');
    expect(judge(h, settings()).verdict).toBe('refuse');
    expect(judge(h, settings({ allowlist: new ServerAllowlist([HOST, 'added.example']) })).verdict).toBe('accept');
  });
});

describe('refusalForHead', () => {
  test('a head that could not be read becomes its own kind; a client that left gets no answer', () => {
    expect(refusalForHead({ kind: 'header-timeout', reason: 'no complete request head within 5 ms' })).toEqual({ kind: 'header-timeout', detail: 'no complete request head within 5 ms', answer: 'Bad request: no complete request head within 5 ms' });
    expect(refusalForHead({ kind: 'closed', reason: 'gone' })).toBeUndefined();
  });
});

describe('the refusal table', () => {
  test('every kind words its event from the client and the detail', () => {
    expect(REFUSALS['malformed'].event('127.0.0.1:5000', 'empty request target')).toBe('Bad request from 127.0.0.1:5000: empty request target');
    expect(REFUSALS['not-connect'].event('127.0.0.1:5000', 'GET /')).toBe('Not a CONNECT request from 127.0.0.1:5000: GET /');
    expect(REFUSALS['proxy-auth-required'].event('[::1]:9', 'CONNECT h:443 (no proxy credentials)')).toBe('Proxy authentication failed for [::1]:9: CONNECT h:443 (no proxy credentials)');
    expect(REFUSALS['forbidden-host'].event('127.0.0.1:1', 'Target host (h) is forbidden')).toBe('Target host (h) is forbidden');
    expect(REFUSALS['over-capacity'].event('127.0.0.1:1', 'Connection limit (2) reached')).toBe('Connection limit (2) reached; refused connection from 127.0.0.1:1');
  });

  test('the answer carries the kind’s status and fixed headers', () => {
    const text = (kind: Parameters<typeof refusalResponse>[0]) => refusalResponse(kind, 'x').toString('latin1');
    expect(text('proxy-auth-required')).toMatch(/^HTTP\/1\.1 407 Proxy Authentication Required\r\n[^]*Proxy-Authenticate: Basic realm="OMS Gateway"\r\n/);
    expect(text('not-connect')).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n[^]*Allow: CONNECT\r\n/);
    expect(text('shutting-down')).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(text('forbidden-host')).not.toMatch(/Allow|Authenticate/);
  });
});
