import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { spawnGateway, GatewayStartError } from '../../gateway/process.js';
import { cliPath } from '../../lib/paths.js';
import { clientHello } from '../hostile-cases.js';
import { exchange, waitFor } from '../raw-client.js';

/**
 * Credentials must never leak: not in events, the event-log file, a child gateway's stdout/stderr,
 * error messages, the management API, or replies to clients. Every output is collected and
 * searched for each secret, raw and in the base64 form it takes inside a Basic header.
 */

const PROXY_USER = 'agentuser';
const PROXY_PASS = 'Pr0xy-S3cret-9f1c';
const RELAY_USER = 'relayuser';
const RELAY_PASS = 'R3lay-S3cret-77ab';
const RELAY_PASS_2 = 'R3lay-Rotated-4e2d';
const ADMIN_TOKEN = 'Adm1n-Token-5c3e-long';
const HOST = 'abc123.oms.opinsights.azure.com';
const OTHER = 'other.oms.opinsights.azure.com';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const SECRETS = [
  PROXY_PASS,
  b64(`${PROXY_USER}:${PROXY_PASS}`),
  b64(`${PROXY_USER}:wrong-${PROXY_PASS}`),
  RELAY_PASS,
  b64(`${RELAY_USER}:${RELAY_PASS}`),
  encodeURIComponent(RELAY_PASS),
  RELAY_PASS_2,
  b64(`${RELAY_USER}:${RELAY_PASS_2}`),
  ADMIN_TOKEN,
];

function leaks(where: string, text: string): string[] {
  return SECRETS.filter((s) => text.includes(s)).map((s) => `${where} contains ${JSON.stringify(s)}`);
}

/**
 * A relay proxy that records the Proxy-Authorization it receives. For `refuse.example` hosts it
 * answers 407 and, being hostile, echoes the credential it got in its reason phrase and body.
 */
class RecordingRelay {
  readonly seen: string[] = [];
  private readonly server = net.createServer((s) => this.serve(s));
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  private serve(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.removeListener('data', onData);
      const auth = /^proxy-authorization:\s*(.*)$/im.exec(head)?.[1]?.trim() ?? '';
      this.seen.push(auth);
      if (/CONNECT [^ ]*refuse/.test(head)) {
        s.end(`HTTP/1.1 407 Denied ${auth}\r\nContent-Length: ${auth.length}\r\n\r\n${auth}`);
      } else {
        s.write('HTTP/1.1 200 Connection established\r\n\r\n');
        s.resume();
      }
    };
    s.on('data', onData);
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function admin(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** Drives every credential-bearing path through a gateway and returns what came back to clients. */
async function exerciseCredentials(proxyPort: number, o: { hostileRelay: boolean }): Promise<string> {
  const auth = (user: string, pass: string) => `Proxy-Authorization: Basic ${b64(`${user}:${pass}`)}\r\n`;
  const replies: string[] = [];
  const send = async (target: string, authLine: string, extra: Buffer = Buffer.alloc(0)) => {
    const r = await exchange({ port: proxyPort, request: Buffer.concat([Buffer.from(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authLine}\r\n`, 'latin1'), extra]), timeoutMs: 1500 });
    replies.push(r.response.toString('latin1'));
    return r;
  };
  // Good credentials through the relay, then non-TLS bytes so the inspector logs a 402.
  await send(`${HOST}:443`, auth(PROXY_USER, PROXY_PASS), Buffer.from('not tls at all\r\n'));
  // Good credentials, a ClientHello, through the relay.
  await send(`${HOST}:443`, auth(PROXY_USER, PROXY_PASS), clientHello(HOST));
  // Wrong password (its base64 contains the real password as a substring of the decoded text).
  await send(`${HOST}:443`, auth(PROXY_USER, `wrong-${PROXY_PASS}`));
  // No credentials; then good credentials to a forbidden host.
  await send(`${HOST}:443`, '');
  await send(`evil.example:443`, auth(PROXY_USER, PROXY_PASS));
  // The relay refuses and echoes our relay credential back (hostile relay).
  if (o.hostileRelay) await send(`refuse.oms.opinsights.azure.com:443`, auth(PROXY_USER, PROXY_PASS));
  return replies.join('\n');
}

describe('secrets never appear in any output', () => {
  let dir: string;
  let relay: RecordingRelay;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'omsgw-secrets-'));
    relay = new RecordingRelay();
    await relay.start();
  });
  afterAll(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('in-process gateway: events, event-log file, client replies, management API and error messages', async () => {
    const eventLog = join(dir, 'inproc-events.jsonl');
    const gw: Gateway = createGateway({
      listenPort: 0,
      adminPort: 0,
      adminToken: ADMIN_TOKEN,
      allowlist: [HOST, OTHER, 'refuse.oms.opinsights.azure.com'],
      relayProxy: `http://${RELAY_USER}:${encodeURIComponent(RELAY_PASS)}@127.0.0.1:${relay.port}`,
      proxyAuth: `${PROXY_USER}:${PROXY_PASS}`,
      eventLog,
      debugEvents: true,
    });
    await gw.start();
    const found: string[] = [];
    try {
      const replies = await exerciseCredentials(gw.proxyAddress.port, { hostileRelay: false });
      found.push(...leaks('replies to clients', replies));
      // The relay really received the relay credential (so the secret was in play).
      expect(relay.seen).toContain(`Basic ${b64(`${RELAY_USER}:${RELAY_PASS}`)}`);

      const url = `http://${gw.adminAddress!.host}:${gw.adminAddress!.port}`;
      const outputs: Array<[string, string]> = [];
      for (const path of ['/api/config', '/api/events', '/api/events?limit=1000', '/api/counters', '/metrics', '/healthz', '/api/allowlist/hosts']) {
        const r = await admin(url, 'GET', path);
        expect({ path, status: r.status }).toEqual({ path, status: 200 });
        outputs.push([`GET ${path}`, r.text]);
      }
      // Rotate the relay credential through the API: the answer and the event must mask it.
      const put = await admin(url, 'PUT', '/api/config', { relayProxy: `http://${RELAY_USER}:${RELAY_PASS_2}@127.0.0.1:${relay.port}` }, ADMIN_TOKEN);
      expect(put.status).toBe(200);
      outputs.push(['PUT /api/config answer', put.text]);
      // A rejected relay URL: the error must not echo the password either.
      const bad = await admin(url, 'PUT', '/api/config', { relayProxy: `http://${RELAY_USER}:${RELAY_PASS_2}@127.0.0.1:notaport` }, ADMIN_TOKEN);
      expect(bad.status).toBe(400);
      outputs.push(['PUT /api/config error', bad.text]);
      await exchange({ port: gw.proxyAddress.port, request: Buffer.from(`CONNECT ${OTHER}:443 HTTP/1.1\r\nHost: ${OTHER}:443\r\nProxy-Authorization: Basic ${b64(`${PROXY_USER}:${PROXY_PASS}`)}\r\n\r\n`, 'latin1'), timeoutMs: 800 });
      expect(relay.seen).toContain(`Basic ${b64(`${RELAY_USER}:${RELAY_PASS_2}`)}`);
      outputs.push(['GET /api/config after rotation', (await admin(url, 'GET', '/api/config')).text]);
      for (const [where, text] of outputs) found.push(...leaks(where, text));
      found.push(...leaks('events (in memory)', JSON.stringify(gw.events.list({}))));
      // The events must show the requests happened (so the grep searched something real).
      const ids = gw.events.list({}).map((e) => e.id);
      expect(ids).toEqual(expect.arrayContaining([101, 103, 104, 105, 402]));
    } finally {
      await gw.close();
    }
    expect(existsSync(eventLog)).toBe(true);
    const fileText = readFileSync(eventLog, 'utf8');
    expect(fileText.length).toBeGreaterThan(0);
    found.push(...leaks('event-log file', fileText));

    // Error messages of bad options that carry a secret.
    for (const opts of [
      { relayProxy: `http://${RELAY_USER}:${RELAY_PASS}@127.0.0.1:notaport` },
      { relayProxy: `ftp://${RELAY_USER}:${RELAY_PASS}@127.0.0.1:3128` },
      { proxyAuth: `${PROXY_PASS}` },
      // (refused in createGateway, before anything is bound)
      { adminHost: '0.0.0.0', adminPort: 0, relayProxy: `http://${RELAY_USER}:${RELAY_PASS}@127.0.0.1:3128` },
    ]) {
      let message = '';
      try {
        createGateway({ listenPort: 0, adminPort: null, allowlist: [HOST], ...opts });
      } catch (err) {
        message = (err as Error).message;
      }
      expect({ opts: Object.keys(opts), threw: message !== '' }).toEqual({ opts: Object.keys(opts), threw: true });
      found.push(...leaks(`error for ${Object.keys(opts).join('+')}`, message));
    }
    expect(found).toEqual([]);
  });

  it('child gateway: stdout, stderr and event-log file of a real process, including a failed start', async () => {
    const eventLog = join(dir, 'child-events.jsonl');
    const config = join(dir, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        allowlist: [HOST, 'refuse.oms.opinsights.azure.com'],
        relayProxy: `http://${RELAY_USER}:${encodeURIComponent(RELAY_PASS)}@127.0.0.1:${relay.port}`,
        proxyAuth: `${PROXY_USER}:${PROXY_PASS}`,
        adminToken: ADMIN_TOKEN,
        eventLog,
        debugEvents: true,
      }),
    );
    expect(existsSync(cliPath())).toBe(true);
    const gw = await spawnGateway(['--config', config]);
    let out = { stdout: '', stderr: '' };
    try {
      await exerciseCredentials(gw.proxyPort, { hostileRelay: false });
      await admin(gw.adminUrl!, 'GET', '/api/config');
    } finally {
      await gw.stop();
      out = gw.output();
    }
    expect(out.stdout).toMatch(/omsgw-gateway-ready/);
    const found = [...leaks('child stdout', out.stdout), ...leaks('child stderr', out.stderr)];
    await waitFor(() => existsSync(eventLog));
    const fileText = readFileSync(eventLog, 'utf8');
    expect(fileText).toMatch(/"id":103/);
    found.push(...leaks('child event-log file', fileText));

    // A start that fails on a bad relay URL given on the command line must not print the password.
    let failure: GatewayStartError | undefined;
    try {
      const bad = await spawnGateway(['--allow-host', HOST, '--relay-proxy', `http://${RELAY_USER}:${RELAY_PASS}@127.0.0.1:notaport`, '--proxy-auth', `${PROXY_USER}:${PROXY_PASS}`]);
      await bad.stop();
    } catch (err) {
      failure = err as GatewayStartError;
    }
    expect(failure).toBeInstanceOf(GatewayStartError);
    expect(failure!.code).toBe(2);
    found.push(...leaks('failed child stdout', failure!.stdout), ...leaks('failed child stderr', failure!.stderr));
    expect(found).toEqual([]);
  });

  it('a relay that echoes the relay credential in its refusal does not get it into events, logs or the client reply', async () => {
    const eventLog = join(dir, 'hostile-relay-events.jsonl');
    const gw = createGateway({
      listenPort: 0,
      adminPort: null,
      allowlist: ['refuse.oms.opinsights.azure.com'],
      relayProxy: `http://${RELAY_USER}:${encodeURIComponent(RELAY_PASS)}@127.0.0.1:${relay.port}`,
      eventLog,
    });
    await gw.start();
    let reply = '';
    // relay.seen is shared by the whole file: only what this request brings counts.
    const seenBefore = relay.seen.length;
    try {
      const r = await exchange({ port: gw.proxyAddress.port, request: Buffer.from('CONNECT refuse.oms.opinsights.azure.com:443 HTTP/1.1\r\nHost: refuse.oms.opinsights.azure.com:443\r\n\r\n', 'latin1') });
      reply = r.response.toString('latin1');
      expect(r.status).toBe(502);
      // 403 says the relay answered (and refused with its 407), not that it was unreachable.
      expect(gw.events.list({ ids: [403] }).map((e) => e.message)).toEqual([expect.stringMatching(/refused CONNECT refuse\.oms\.opinsights\.azure\.com:443 with status 407$/)]);
    } finally {
      await gw.close();
    }
    // This request reached the relay with the credential (which it echoed back), so there was something to leak.
    expect(relay.seen.slice(seenBefore)).toEqual([`Basic ${b64(`${RELAY_USER}:${RELAY_PASS}`)}`]);
    const found = [...leaks('reply to the agent', reply), ...leaks('events', JSON.stringify(gw.events.list({}))), ...leaks('event-log file', readFileSync(eventLog, 'utf8'))];
    expect(found).toEqual([]);
  });
});
