import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { cliPath } from '../../lib/paths.js';
import { isInputError } from '../../lib/errors.js';
import { ManualClock } from '../../lib/clock.js';

const TOKEN = 'mgmt-token-0123456789';
const HOST = 'abc123.oms.opinsights.azure.com';

async function call(base: string, method: string, path: string, o: { body?: string; token?: string; authorization?: string } = {}) {
  const headers: Record<string, string> = {};
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.authorization) headers.authorization = o.authorization;
  const res = await fetch(base + path, { method, headers, body: o.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json: json as { error?: string } | undefined };
}

/**
 * What any change route could change, as a client sees it: both allowlists, the settings, the clock
 * and the event log (a reload changes nothing else: it logs event 100).
 */
async function visibleState(base: string): Promise<Record<string, string | number>> {
  const get = async (path: string) => (await call(base, 'GET', path)).text;
  const events = (await call(base, 'GET', '/api/events')).json as unknown as { lastSeq: number };
  return {
    hosts: await get('/api/allowlist/hosts'),
    clientCertificates: await get('/api/allowlist/client-certificates'),
    config: await get('/api/config'),
    clock: await get('/api/clock'),
    lastEvent: events.lastSeq,
  };
}

/** Every route that changes something, with a valid body. */
const CHANGES: Array<{ method: string; path: string; body?: string }> = [
  { method: 'POST', path: '/api/allowlist/hosts', body: JSON.stringify({ host: 'added.oms.opinsights.azure.com' }) },
  { method: 'DELETE', path: '/api/allowlist/hosts', body: JSON.stringify({ host: HOST }) },
  { method: 'DELETE', path: `/api/allowlist/hosts/${HOST}` },
  { method: 'POST', path: '/api/allowlist/client-certificates', body: JSON.stringify({ subject: 'CN=x, OU=Linux Monitoring Agent, O=Microsoft' }) },
  { method: 'DELETE', path: '/api/allowlist/client-certificates', body: JSON.stringify({ subject: 'CN=x, OU=Linux Monitoring Agent, O=Microsoft' }) },
  { method: 'PUT', path: '/api/config', body: JSON.stringify({ allowedPorts: [443, 8443] }) },
  { method: 'POST', path: '/api/reload' },
  { method: 'POST', path: '/api/clock/advance', body: JSON.stringify({ ms: 1000 }) },
];

/**
 * Registers beforeAll/afterAll for a describe: a gateway whose admin API needs TOKEN, on a ManualClock
 * (which enables POST /api/clock/advance, so that change route is covered too).
 */
function tokenedGateway(): { readonly base: string } {
  let gw: Gateway | undefined;
  let base: string | undefined;
  beforeAll(async () => {
    gw = createGateway({ listenPort: 0, adminPort: 0, adminToken: TOKEN, allowlist: [HOST], clock: new ManualClock() });
    await gw.start();
    base = `http://${gw.adminAddress!.host}:${gw.adminAddress!.port}`;
  });
  afterAll(async () => {
    await gw?.close();
  });
  return {
    get base() {
      if (base === undefined) throw new Error('tokenedGateway().base is only there once beforeAll has run');
      return base;
    },
  };
}

describe('management API', () => {
  it('refuses to listen off loopback without a token (createGateway, before binding anything)', () => {
    for (const adminHost of ['0.0.0.0', '::', '10.1.2.3', '192.168.1.10']) {
      let err: unknown;
      try {
        createGateway({ listenPort: 0, adminHost, adminPort: 0, allowlist: [HOST] });
      } catch (e) {
        err = e;
      }
      expect({ adminHost, inputError: isInputError(err) }).toEqual({ adminHost, inputError: true });
      expect((err as Error).message).toMatch(/token/i);
    }
    // With a token the same options are accepted (not started: tests bind loopback only).
    expect(() => createGateway({ listenPort: 0, adminHost: '0.0.0.0', adminPort: 0, adminToken: TOKEN, allowlist: [HOST] })).not.toThrow();
  });

  it('the CLI refuses the same with exit code 2 and a message saying what to do', () => {
    expect(existsSync(cliPath())).toBe(true);
    const r = spawnSync(process.execPath, [cliPath(), 'gateway', '--allow-host', HOST, '--listen-port', '0', '--admin-host', '0.0.0.0', '--admin-port', '0'], { encoding: 'utf8', timeout: 15_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(/token/i) });
    expect(r.stdout).not.toMatch(/omsgw-gateway-ready/);
  });

  describe('with a token', () => {
    const admin = tokenedGateway();

    it.each(CHANGES.map((c) => [`${c.method} ${c.path}`, c] as const))('%s needs the token: none → 401, wrong → 401, nothing changed', async (_n, c) => {
      const before = await visibleState(admin.base);
      const none = await call(admin.base, c.method, c.path, { body: c.body });
      const wrong = await call(admin.base, c.method, c.path, { body: c.body, token: TOKEN.slice(0, -1) + 'X' });
      const basic = await call(admin.base, c.method, c.path, { body: c.body, authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` });
      expect([none.status, wrong.status, basic.status]).toEqual([401, 401, 401]);
      expect(none.json?.error).toEqual(expect.any(String));
      expect(await visibleState(admin.base)).toEqual(before);
    });

    it('accepts a change with the token', async () => {
      const r = await call(admin.base, 'POST', '/api/allowlist/hosts', { body: JSON.stringify({ host: 'tokened.oms.opinsights.azure.com' }), token: TOKEN });
      expect(r.status).toBe(200);
      expect((await call(admin.base, 'GET', '/api/allowlist/hosts')).text).toContain('tokened.oms.opinsights.azure.com');
    });

    it.each([
      ['POST', '/api/allowlist/hosts', '{"host": "x.example.com"'],
      ['POST', '/api/allowlist/hosts', 'host=x.example.com'],
      ['DELETE', '/api/allowlist/hosts', '{not json}'],
      ['POST', '/api/allowlist/client-certificates', '\u0000\u0001'],
      ['PUT', '/api/config', '{"allowedPorts": [443,]}'],
      ['PUT', '/api/config', '[1, 2, 3]'],
      ['PUT', '/api/config', '"a string"'],
      ['POST', '/api/clock/advance', '{"ms": '],
    ])('%s %s with bad JSON %j → 400 with a message', async (method, path, body) => {
      const r = await call(admin.base, method, path, { body, token: TOKEN });
      expect({ status: r.status, hasMessage: typeof r.json?.error === 'string' && r.json.error.length > 5 }).toEqual({ status: 400, hasMessage: true });
    });
  });

  describe('positive control: the "nothing changed" snapshot sees every change route', () => {
    const admin = tokenedGateway();

    it.each(CHANGES.map((c) => [`${c.method} ${c.path}`, c] as const))('%s with the token changes it', async (_n, c) => {
      // Make each change a real one: the host and the subject it removes are there first.
      if (c.method === 'DELETE' && c.path.startsWith('/api/allowlist/hosts')) await call(admin.base, 'POST', '/api/allowlist/hosts', { body: JSON.stringify({ host: HOST }), token: TOKEN });
      if (c.method === 'DELETE' && c.path.startsWith('/api/allowlist/client-certificates')) await call(admin.base, 'POST', c.path, { body: c.body, token: TOKEN });
      const before = await visibleState(admin.base);
      const r = await call(admin.base, c.method, c.path, { body: c.body, token: TOKEN });
      expect(r.status).toBe(200);
      expect(await visibleState(admin.base)).not.toEqual(before);
    });
  });
});
