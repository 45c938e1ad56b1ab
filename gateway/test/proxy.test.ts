/** The CONNECT path end to end, in process, with real sockets on loopback. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import { createGateway, type Gateway } from '../index.js';
import {
  closed,
  closedPort,
  connectRequest,
  eventually,
  idsFor,
  makeServerCert,
  rawRequest,
  readBytes,
  startSilentServer,
  startTcpEcho,
  startTlsEcho,
  tempDir,
  tlsThroughProxy,
  type TestServer,
} from './support.js';

const HOST = 'ws1.oms.opinsights.azure.com';
const cert = makeServerCert(HOST);
let echo: TestServer;
let tcpEcho: TestServer & { received: () => Buffer };
const gateways: Gateway[] = [];

async function gateway(opts: Parameters<typeof createGateway>[0] = {}): Promise<Gateway> {
  const gw = createGateway({ listenPort: 0, adminPort: null, allowlist: [HOST, 'plain.example.test'], hostMap: [`${HOST}=127.0.0.1:${echo.port}`, `plain.example.test=127.0.0.1:${tcpEcho.port}`], tlsInspection: false, ...opts });
  await gw.start();
  gateways.push(gw);
  return gw;
}

beforeAll(async () => {
  echo = await startTlsEcho(cert);
  tcpEcho = await startTcpEcho();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
afterAll(async () => {
  await echo.close();
  await tcpEcho.close();
});

/** The connection id of the last 103 event. */
function lastConn(gw: Gateway): number {
  const e = gw.events.list({ ids: [103, 104] }).at(-1);
  if (!e?.connectionId) throw new Error('no request event');
  return e.connectionId;
}

describe('allowed host', () => {
  test('tunnels TLS bytes both ways to the host-mapped server (inspection on: 103 then 107)', async () => {
    const gw = await gateway({ tlsInspection: true });
    const s = await tlsThroughProxy(gw.proxyAddress.port, `${HOST}:443`, HOST, cert.cert, { tls: { maxVersion: 'TLSv1.2' } });
    expect((await readBytes(s, 5)).toString()).toBe('echo:');
    s.write('hello through the gateway');
    expect((await readBytes(s, 25)).toString()).toBe('hello through the gateway');
    s.end();
    await closed(s);
    await eventually(() => gw.counters.snapshot().activeClientConnections === 0, 'connection closed');
    const snap = gw.counters.snapshot();
    expect(snap.tunnelsTotal).toBe(1);
    expect(snap.bytesIn).toBeGreaterThan(25);
    expect(snap.bytesOut).toBeGreaterThan(30);
    expect(snap.upstreamConnectLatency.count).toBe(1);
    expect(idsFor(gw, lastConn(gw))).toEqual([103, 107]);
  });

  test('host matching is case-insensitive and ignores one trailing dot', async () => {
    const gw = await gateway();
    const r = await rawRequest(gw.proxyAddress.port, connectRequest(`WS1.OMS.opinsights.azure.com.:443`));
    expect(r.status).toBe(200);
    r.socket.destroy();
    expect(gw.events.list({ ids: [103] })[0].target).toBe(`${HOST}:443`);
  });

  test('bytes sent right after the CONNECT head are forwarded upstream, not lost', async () => {
    const gw = await gateway({ allowedPorts: [443, 7] });
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443') + 'early-bytes');
    expect(r.status).toBe(200);
    expect((await readBytes(r.socket, 11)).toString()).toBe('early-bytes');
    r.socket.destroy();
  });

  test('a half-close travels through the tunnel: the reply still arrives after the client ends', async () => {
    const gw = await gateway();
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'));
    expect(r.status).toBe(200);
    const chunks: Buffer[] = [];
    r.socket.on('data', (c) => chunks.push(c));
    const ended = new Promise<void>((resolve) => r.socket.once('end', resolve));
    r.socket.end('last words');
    r.socket.resume();
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe('last words');
  });

  test('IPv6: listening on ::1, host map file entry to [::1]:port', async () => {
    const v6 = net.createServer((sock) => sock.pipe(sock));
    await new Promise<void>((r) => v6.listen(0, '::1', r));
    const { dir, cleanup } = tempDir();
    const mapFile = `${dir}/hosts.map`;
    writeFileSync(mapFile, `# lab routes\nv6.example.test=[::1]:${(v6.address() as net.AddressInfo).port}\n`);
    const gw = await gateway({ listenHost: '::1', allowlist: ['v6.example.test'], hostMap: [], hostMapFile: mapFile });
    expect(gw.proxyAddress.host).toBe('::1');
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect({ host: '::1', port: gw.proxyAddress.port }, () => s.write(connectRequest('v6.example.test:443') + 'ping6'));
      let buf = Buffer.alloc(0);
      s.on('data', (c) => {
        buf = Buffer.concat([buf, c]);
        if (buf.toString().endsWith('ping6')) {
          s.destroy();
          resolve(buf);
        }
      });
      s.on('error', reject);
    });
    expect(reply.toString()).toBe('HTTP/1.1 200 Connection established\r\n\r\nping6');
    expect(gw.events.list({ ids: [103] })[0].clientIp).toBe('::1');
    await new Promise((r) => v6.close(r));
    cleanup();
  });

  test('curl -x reaches the TLS server through the gateway: certificate verified, HTTP answer intact', async () => {
    // A real HTTPS server behind the host map: curl succeeds (exit 0, the body on stdout) only if the
    // tunnel carried a verified TLS session both ways; a failed CONNECT or a bad certificate is a non-zero exit.
    const site = https.createServer(cert, (req, res) => res.end(`reached ${req.headers.host}${req.url}`));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const gw = await gateway({ hostMap: [`${HOST}=127.0.0.1:${(site.address() as net.AddressInfo).port}`] });
    const { dir, cleanup } = tempDir();
    const caFile = `${dir}/ca.pem`;
    writeFileSync(caFile, cert.cert);
    try {
      const r = await runCurl(['-sS', '-m', '10', '--cacert', caFile, '-x', `http://127.0.0.1:${gw.proxyAddress.port}`, `https://${HOST}/probe`]);
      expect(r).toEqual({ status: 0, stdout: `reached ${HOST}/probe`, stderr: '' });
      expect(gw.counters.snapshot().tunnelsTotal).toBe(1);
      expect(gw.events.list({ ids: [103] })[0].message).toContain(`CONNECT ${HOST}:443`);
    } finally {
      cleanup();
      site.closeAllConnections();
      await new Promise((r) => site.close(r));
    }
  });
});

/** Runs curl (installed by .ci/run); a missing curl rejects with spawn's ENOENT, failing the test. */
function runCurl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status: number | null) => resolve({ status, stdout, stderr }));
  });
}

describe('passive TLS inspection', () => {
  test('a TLS 1.2 session is verified once (107 with version and SNI), then plain forwarding', async () => {
    const gw = await gateway({ tlsInspection: true });
    const s = await tlsThroughProxy(gw.proxyAddress.port, `${HOST}:443`, HOST, cert.cert, { tls: { maxVersion: 'TLSv1.2' } });
    expect((await readBytes(s, 5)).toString()).toBe('echo:');
    s.write('after verification');
    expect((await readBytes(s, 18)).toString()).toBe('after verification');
    const verified = await eventually(() => gw.events.list({ ids: [107] })[0], '107');
    expect(verified.message).toMatch(/TLS session is successfully verified/);
    expect(verified.fields).toMatchObject({ version: 'TLSv1.2', sni: HOST });
    expect(gw.events.list({ ids: [107] })).toHaveLength(1);
    s.destroy();
    expect(gw.counters.snapshot()).toMatchObject({ rejectionCount: 0, errorCount: 0 });
  });

  test('TLS 1.3 is verified by the default (current) policy: 107 with version TLSv1.3', async () => {
    const gw = await gateway({ tlsInspection: true });
    const s = await tlsThroughProxy(gw.proxyAddress.port, `${HOST}:443`, HOST, cert.cert, { tls: { minVersion: 'TLSv1.3' } });
    expect((await readBytes(s, 5)).toString()).toBe('echo:');
    const verified = await eventually(() => gw.events.list({ ids: [107] })[0], '107');
    expect(verified.fields).toMatchObject({ version: 'TLSv1.3', sni: HOST });
    s.destroy();
    expect(gw.counters.snapshot()).toMatchObject({ rejectionCount: 0, errorCount: 0 });
  });

  test('TLS 1.3 is refused by the preview-2016 policy: 106, counted, both sockets closed', async () => {
    const gw = await gateway({ tlsInspection: true, tls: { policy: 'preview-2016' } });
    const reply = await rawRequest(gw.proxyAddress.port, connectRequest(`${HOST}:443`));
    expect(reply.status).toBe(200);
    const tls = await import('node:tls');
    const s = tls.connect({ socket: reply.socket, servername: HOST, ca: cert.cert, minVersion: 'TLSv1.3' });
    s.on('error', () => undefined);
    await closed(s);
    await eventually(() => gw.events.list({ ids: [106] }).length === 1, '106');
    await eventually(() => gw.counters.snapshot().activeClientConnections === 0, 'closed');
    expect(gw.counters.snapshot()).toMatchObject({ rejectionCount: 1, errorCount: 0 });
  });

  test('bytes that are not TLS: 402 and an error counted', async () => {
    const gw = await gateway({ tlsInspection: true });
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'));
    expect(r.status).toBe(200);
    r.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed(r.socket);
    await eventually(() => gw.events.list({ ids: [402] }).length === 1, '402');
    expect(gw.counters.snapshot().errorCount).toBe(1);
  });
});

describe('refusals', () => {
  test('forbidden host: 403, events 103 then 105, rejection counted', async () => {
    const gw = await gateway();
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('scus-agentservice-prod-1.azure-automation.net:443'));
    expect(r.status).toBe(403);
    expect(r.body).toContain('Target host (scus-agentservice-prod-1.azure-automation.net) is forbidden');
    await closed(r.socket);
    const conn = lastConn(gw);
    expect(idsFor(gw, conn)).toEqual([103, 105]);
    const [e103, e105] = gw.events.list().filter((e) => e.connectionId === conn);
    expect(e103.message).toMatch(/^Got request from 127\.0\.0\.1:\d+: CONNECT scus-agentservice-prod-1\.azure-automation\.net:443 HTTP\/1\.1/);
    expect(e105.message).toBe('Target host (scus-agentservice-prod-1.azure-automation.net) is forbidden');
    expect(e105.level).toBe('warning');
    expect(gw.counters.snapshot().rejectionCount).toBe(1);
    expect(gw.counters.snapshot().errorCount).toBe(0);
  });

  test('port 80: 403 and 105', async () => {
    const gw = await gateway();
    const r = await rawRequest(gw.proxyAddress.port, connectRequest(`${HOST}:80`));
    expect(r.status).toBe(403);
    expect(idsFor(gw, lastConn(gw))).toEqual([103, 105]);
    expect(gw.counters.snapshot().rejectionCount).toBe(1);
    r.socket.destroy();
  });

  test('GET http://... gets 405 and 104 and is not counted as a rejection', async () => {
    const gw = await gateway();
    const r = await rawRequest(gw.proxyAddress.port, `GET http://${HOST}/ HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    expect(r.status).toBe(405);
    expect(r.head).toMatch(/\r\nAllow: CONNECT/);
    expect(idsFor(gw, lastConn(gw))).toEqual([104]);
    expect(gw.counters.snapshot()).toMatchObject({ rejectionCount: 0, errorCount: 0 });
    r.socket.destroy();
  });

  test.each([
    ['userinfo', 'CONNECT user@ws1.oms.opinsights.azure.com:443 HTTP/1.1'],
    ['path', 'CONNECT ws1.oms.opinsights.azure.com:443/x HTTP/1.1'],
    ['no port', 'CONNECT ws1.oms.opinsights.azure.com HTTP/1.1'],
    ['port 0', 'CONNECT ws1.oms.opinsights.azure.com:0 HTTP/1.1'],
    ['port 65536', 'CONNECT ws1.oms.opinsights.azure.com:65536 HTTP/1.1'],
    ['signed port', 'CONNECT ws1.oms.opinsights.azure.com:+443 HTTP/1.1'],
    ['bare IPv6', 'CONNECT ::1:443 HTTP/1.1'],
    ['extra spaces', 'CONNECT  ws1.oms.opinsights.azure.com:443 HTTP/1.1'],
    ['bad version', 'CONNECT ws1.oms.opinsights.azure.com:443 HTTP/2.0'],
    ['garbage', '\x16\x03\x01\x02\x00\x01\x00'],
  ])('malformed request (%s): 400', async (_name, line) => {
    const gw = await gateway();
    const r = await rawRequest(gw.proxyAddress.port, `${line}\r\nHost: x\r\n\r\n`);
    expect(r.status).toBe(400);
    expect(gw.events.list({ ids: [103] })).toHaveLength(0);
    expect(gw.events.list({ ids: [104] })).toHaveLength(1);
    r.socket.destroy();
  });

  test.each([
    ['two Host headers', { Host: 'a', 'X-Dummy': '1' }, 'Host: b'],
    ['Content-Length on CONNECT', {}, 'Content-Length: 5'],
    ['Transfer-Encoding on CONNECT', {}, 'Transfer-Encoding: chunked'],
    ['two Proxy-Authorization headers', { 'Proxy-Authorization': 'Basic YTpi' }, 'Proxy-Authorization: Basic Yzpk'],
  ])('ambiguous request (%s): 400 before any upstream connection', async (_name, headers, extra) => {
    const gw = await gateway();
    const head = connectRequest('plain.example.test:443', headers).replace(/\r\n\r\n$/, `\r\n${extra}\r\n\r\n`);
    const r = await rawRequest(gw.proxyAddress.port, head + 'hello');
    expect(r.status).toBe(400);
    expect(gw.counters.snapshot().tunnelsTotal).toBe(0);
    r.socket.destroy();
  });

  test('request head larger than maxHeadBytes: 431', async () => {
    const gw = await gateway({ maxHeadBytes: 1024 });
    const r = await rawRequest(gw.proxyAddress.port, connectRequest(`${HOST}:443`, { 'X-Big': 'a'.repeat(2000) }));
    expect(r.status).toBe(431);
    r.socket.destroy();
  });

  test('slow client (no complete head within headerTimeoutMs): 408 and closed', async () => {
    const gw = await gateway({ headerTimeoutMs: 150 });
    const r = await rawRequest(gw.proxyAddress.port, `CONNECT ${HOST}:443 HTTP/1.1\r\nHost: `);
    expect(r.status).toBe(408);
    await closed(r.socket);
    expect(gw.events.list({ ids: [104] })[0].fields).toMatchObject({ outcome: 'header-timeout' });
  });

  test('refused upstream: 502 and 403, error counted', async () => {
    const port = await closedPort();
    const gw = await gateway({ hostMap: [`${HOST}=127.0.0.1:${port}`] });
    const r = await rawRequest(gw.proxyAddress.port, connectRequest(`${HOST}:443`));
    expect(r.status).toBe(502);
    expect(idsFor(gw, lastConn(gw))).toEqual([103, 403]);
    expect(gw.events.list({ ids: [403] })[0].message).toContain('ECONNREFUSED');
    expect(gw.counters.snapshot()).toMatchObject({ errorCount: 1, rejectionCount: 0, tunnelsTotal: 0 });
    r.socket.destroy();
  });

  test('upstream that never answers the relay CONNECT: 504 and 403', async () => {
    const silent = await startSilentServer();
    const gw = await gateway({ hostMap: [], relayProxy: `http://127.0.0.1:${silent.port}`, connectTimeoutMs: 150 });
    const r = await rawRequest(gw.proxyAddress.port, connectRequest(`${HOST}:443`));
    expect(r.status).toBe(504);
    expect(idsFor(gw, lastConn(gw))).toEqual([103, 403]);
    r.socket.destroy();
    await silent.close();
  });

  test('unmapped host resolving to loopback is refused unless allowPrivateUpstream', async () => {
    const gw = await gateway({ allowlist: ['localhost'], hostMap: [] });
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('localhost:443'));
    expect(r.status).toBe(403);
    expect(gw.events.list({ ids: [105] })[0].message).toMatch(/private address 127\.0\.0\.1/);
    r.socket.destroy();
    const r2 = await rawRequest(gw.proxyAddress.port, connectRequest('127.0.0.1:443'));
    expect(r2.status).toBe(403); // 127.0.0.1 is not even on the allowlist
    r2.socket.destroy();

    const open = await gateway({ allowlist: ['localhost'], hostMap: [], allowPrivateUpstream: true, allowedPorts: [tcpEcho.port] });
    const r3 = await rawRequest(open.proxyAddress.port, connectRequest(`localhost:${tcpEcho.port}`));
    expect(r3.status).toBe(200);
    r3.socket.destroy();
  });

  test('connections beyond maxConnections get 503 and event 400', async () => {
    const gw = await gateway({ maxConnections: 2 });
    const held = await Promise.all([0, 1].map(() => rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'))));
    expect(held.map((h) => h.status)).toEqual([200, 200]);
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'));
    expect(r.status).toBe(503);
    expect(gw.events.list({ ids: [400] })).toHaveLength(1);
    held.forEach((h) => h.socket.destroy());
    r.socket.destroy();
  });

  test('idle tunnel is closed after idleTimeoutMs', async () => {
    const gw = await gateway({ idleTimeoutMs: 100 });
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'));
    expect(r.status).toBe(200);
    await closed(r.socket, 3000);
  });
});

describe('client proxy authentication', () => {
  test('missing or wrong credentials: 407 with Proxy-Authenticate; right ones tunnel; credentials masked in 103', async () => {
    const gw = await gateway({ proxyAuth: 'agent:s3cret' });
    const none = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'));
    expect(none.status).toBe(407);
    expect(none.head).toContain('Proxy-Authenticate: Basic realm="OMS Gateway"');
    none.socket.destroy();
    const wrong = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443', { 'Proxy-Authorization': `Basic ${Buffer.from('agent:nope').toString('base64')}` }));
    expect(wrong.status).toBe(407);
    wrong.socket.destroy();
    const good = Buffer.from('agent:s3cret').toString('base64');
    const ok = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443', { 'Proxy-Authorization': `Basic ${good}` }));
    expect(ok.status).toBe(200);
    ok.socket.destroy();
    const text = JSON.stringify(gw.events.list());
    expect(text).not.toContain(good);
    expect(text).not.toContain(Buffer.from('agent:nope').toString('base64'));
    expect(gw.events.list({ ids: [103] }).at(-1)!.message).toContain('Proxy-Authorization: Basic ****');
    expect(gw.counters.snapshot().rejectionCount).toBe(0);
  });

  test('without --proxy-auth, an agent Proxy-Authorization is accepted and masked', async () => {
    const gw = await gateway();
    const token = Buffer.from('linux:agentpass').toString('base64');
    const ok = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443', { 'Proxy-Authorization': `Basic ${token}` }));
    expect(ok.status).toBe(200);
    ok.socket.destroy();
    expect(JSON.stringify(gw.events.list())).not.toContain(token);
  });
});

describe('relay proxy chaining', () => {
  test('through a second gateway that requires proxy auth; wrong credentials fail cleanly with 502 + 403', async () => {
    const upstreamGw = await gateway({ proxyAuth: 'relay:pa55word', tlsInspection: true });
    const front = await gateway({ hostMap: [], relayProxy: `http://relay:pa55word@127.0.0.1:${upstreamGw.proxyAddress.port}`, tlsInspection: true });
    const s = await tlsThroughProxy(front.proxyAddress.port, `${HOST}:443`, HOST, cert.cert, { tls: { maxVersion: 'TLSv1.2' } });
    expect((await readBytes(s, 5)).toString()).toBe('echo:');
    s.write('via relay');
    expect((await readBytes(s, 9)).toString()).toBe('via relay');
    s.destroy();
    expect(upstreamGw.events.list({ ids: [103] })[0].message).toContain('Proxy-Authorization: Basic ****');
    // both gateways see the same TLS 1.2 handshake pass by
    expect(front.events.list({ ids: [103, 107] }).map((e) => e.id)).toEqual([103, 107]);
    expect(upstreamGw.events.list({ ids: [103, 107] }).map((e) => e.id)).toEqual([103, 107]);

    const badFront = await gateway({ hostMap: [], relayProxy: `http://relay:wrong-pass@127.0.0.1:${upstreamGw.proxyAddress.port}` });
    const r = await rawRequest(badFront.proxyAddress.port, connectRequest(`${HOST}:443`));
    expect(r.status).toBe(502);
    const e403 = badFront.events.list({ ids: [403] });
    expect(e403).toHaveLength(1);
    expect(e403[0].message).toMatch(/refused CONNECT .* with status 407$/);
    expect(JSON.stringify(badFront.events.list())).not.toContain('wrong-pass');
    r.socket.destroy();
  });
});

describe('counters', () => {
  test('after N connections from distinct 127.x addresses', async () => {
    const gw = await gateway();
    const sources = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];
    const open: net.Socket[] = [];
    for (const localAddress of sources) {
      const r = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'), { localAddress });
      expect(r.status).toBe(200);
      open.push(r.socket);
    }
    // two more from the first address: one tunnel, one forbidden
    const again = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'), { localAddress: sources[0] });
    open.push(again.socket);
    const forbidden = await rawRequest(gw.proxyAddress.port, connectRequest('evil.example.test:443'), { localAddress: sources[0] });
    await closed(forbidden.socket);
    await eventually(() => gw.counters.snapshot().activeClientConnections === 5, '5 active');
    expect(gw.counters.snapshot()).toMatchObject({ activeClientConnections: 5, connectedClients: 4, connectedClientsWindow: 4, rejectionCount: 1, errorCount: 0, tunnelsTotal: 5, tunnelsActive: 5, connectionsTotal: 6 });
    expect(new Set(gw.events.list({ ids: [103] }).map((e) => e.clientIp))).toEqual(new Set(sources));
    open.forEach((s) => s.destroy());
    await eventually(() => gw.counters.snapshot().activeClientConnections === 0, 'all closed');
    // the 2016 counter does not drop when agents go away
    expect(gw.counters.snapshot()).toMatchObject({ connectedClients: 4, tunnelsActive: 0 });
  });
});

describe('shutdown', () => {
  test('close() answers connections not yet served with 503 "shutting down" (no event); an open tunnel is drained, not answered', async () => {
    const hung = await startSilentServer(); // a relay that never answers: the second client waits for its upstream
    const gw = createGateway({ listenPort: 0, adminPort: null, allowlist: ['plain.example.test', 'relayed.example.test'], hostMap: [`plain.example.test=127.0.0.1:${tcpEcho.port}`], relayProxy: `http://127.0.0.1:${hung.port}`, tlsInspection: false, drainTimeoutMs: 200 });
    await gw.start();
    const port = gw.proxyAddress.port;
    // Positive control on the same gateway: a served client has its tunnel, and close() does not answer it.
    const tunnel = await rawRequest(port, connectRequest('plain.example.test:443'));
    expect(tunnel.status).toBe(200);
    const reading = net.connect(port, '127.0.0.1');
    reading.write('CONNECT plain.example.test:443 HTTP/1.1\r\n'); // the head never ends
    const waiting = net.connect(port, '127.0.0.1');
    waiting.write(connectRequest('relayed.example.test:443'));
    const replies = [reading, waiting, tunnel.socket].map((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c));
      s.on('error', () => undefined);
      return new Promise<string>((resolve) => s.once('close', () => resolve(Buffer.concat(chunks).toString('latin1'))));
    });
    await eventually(() => gw.counters.snapshot().activeClientConnections === 3 && gw.events.list({ ids: [103] }).length === 2, 'three clients, two requests logged');
    const seqBefore = gw.events.lastSeq;
    await gw.close();
    const [toReading, toWaiting, toTunnel] = await Promise.all(replies);
    const shuttingDown = /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*\r\n\r\nThe gateway is shutting down; try again later\.\n$/;
    expect(toReading).toMatch(shuttingDown);
    expect(toWaiting).toMatch(shuttingDown);
    expect(toTunnel).toBe(''); // its 200 came before; nothing else was written to it
    // No refusal event for the shutdown answers: only 102 (stopped) and the drain's 100 for the tunnel.
    expect(gw.events.list({ since: seqBefore }).map((e) => e.id)).toEqual([102, 100]);
    await hung.close();
  });

  test('close() logs 102, drains tunnels up to drainTimeoutMs and frees the port', async () => {
    const gw = createGateway({ listenPort: 0, adminPort: null, allowlist: ['plain.example.test'], hostMap: [`plain.example.test=127.0.0.1:${tcpEcho.port}`], tlsInspection: false, drainTimeoutMs: 100 });
    await gw.start();
    const r = await rawRequest(gw.proxyAddress.port, connectRequest('plain.example.test:443'));
    expect(r.status).toBe(200);
    const port = gw.proxyAddress.port;
    await gw.close();
    await closed(r.socket);
    const ids = gw.events.list().map((e) => e.id);
    expect(ids).toContain(102);
    expect(gw.events.list({ ids: [100] }).at(-1)!.message).toMatch(/Drain timeout: closed 1 connection/);
    await expect(rawRequest(port, connectRequest('plain.example.test:443'), { timeoutMs: 500 })).rejects.toThrow(/ECONNREFUSED/);
  });
});
