/**
 * TLS inspection end to end: real TLS clients CONNECT through the real gateway (createGateway),
 * which reaches in-test tls.Servers on 127.0.0.1 through its host map. Checks the event sequence,
 * the messages and the Rejection/Error counters, also under concurrency.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { createGateway, type Gateway, type GatewayEvent } from '../index.js';
import { ALLOWED_SUBJECT, makeTestCerts, OTHER_SUBJECT, SERVER_HOST, type TestCerts } from './tls-support.js';

const PLAIN_HOST = 'plain.example.test';
const VERDICT_IDS = [105, 106, 107, 402];

let certs: TestCerts;
let mtlsServer: tls.Server;
let plainServer: tls.Server;
let gateway: Gateway;

function startServer(options: tls.TlsOptions): Promise<tls.Server> {
  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => undefined);
    socket.end('ok');
  });
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  certs = makeTestCerts();
  const identity = { key: certs.server.key, cert: certs.server.cert };
  mtlsServer = await startServer({ ...identity, requestCert: true, rejectUnauthorized: false });
  plainServer = await startServer(identity);
  gateway = createGateway({
    listenHost: '127.0.0.1',
    listenPort: 0,
    adminPort: null,
    allowlist: [SERVER_HOST, PLAIN_HOST],
    clientAllowlist: ['CN=ws-0001'],
    hostMap: [`${SERVER_HOST}=127.0.0.1:${portOf(mtlsServer)}`, `${PLAIN_HOST}=127.0.0.1:${portOf(plainServer)}`],
  });
  await gateway.start();
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([mtlsServer, plainServer].map((s) => new Promise((r) => s?.close(r))));
  certs.cleanup();
});

interface ClientResult {
  clientPort: number;
  protocol?: string;
  received: string;
  error?: string;
}

/** CONNECT host:443 (followed by `firstBytes` in the same write) and wait for the 200. */
function connectTunnel(host: string, firstBytes = ''): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gateway.proxyAddress.port, '127.0.0.1');
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.1 200 /.test(status)) return reject(new Error(`CONNECT refused: ${status}`));
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n${firstBytes}`);
  });
}

async function tlsThroughGateway(host: string, options: tls.ConnectionOptions): Promise<ClientResult> {
  const raw = await connectTunnel(host);
  const result: ClientResult = { clientPort: raw.localPort as number, received: '' };
  await new Promise<void>((resolve) => {
    const client = tls.connect({ socket: raw, rejectUnauthorized: false, ...options });
    client.on('secureConnect', () => (result.protocol = client.getProtocol() ?? undefined));
    client.on('data', (d) => (result.received += d.toString()));
    client.on('end', () => client.end());
    client.on('error', (err) => {
      result.error = err.message;
      client.destroy();
    });
    client.on('close', () => resolve());
  });
  raw.destroy();
  return result;
}

async function garbageThroughGateway(host: string, inSamePacket: boolean): Promise<ClientResult> {
  const garbage = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
  const raw = await connectTunnel(host, inSamePacket ? garbage : '');
  const result: ClientResult = { clientPort: raw.localPort as number, received: '' };
  if (!inSamePacket) raw.write(garbage);
  await new Promise<void>((resolve) => {
    raw.on('data', (d) => (result.received += d.toString()));
    raw.on('error', () => undefined);
    raw.on('close', () => resolve());
  });
  return result;
}

function eventsOf(clientPort: number): GatewayEvent[] {
  return gateway.events.list().filter((e) => e.clientPort === clientPort && e.clientIp === '127.0.0.1');
}

/** Polls (with a deadline) until the connection has its verdict event; returns all its events. */
async function verdictEvents(clientPort: number, timeoutMs = 5000): Promise<GatewayEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = eventsOf(clientPort);
    if (events.some((e) => VERDICT_IDS.includes(e.id))) return events;
    if (Date.now() > deadline) throw new Error(`no verdict event for client port ${clientPort}; events: ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const tls12 = { maxVersion: 'TLSv1.2' } as const;

test('TLS 1.2 with an allowed client certificate: 103 then 107, and the tunnel carries data', async () => {
  const r = await tlsThroughGateway(SERVER_HOST, { ...tls12, servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert });
  expect(r.error).toBeUndefined();
  expect(r.protocol).toBe('TLSv1.2');
  expect(r.received).toBe('ok');
  const events = await verdictEvents(r.clientPort);
  expect(events.map((e) => e.id)).toEqual([103, 107]);
  expect(events[1].message).toContain(`subject=${ALLOWED_SUBJECT}`);
  expect(events[1].fields).toMatchObject({ version: 'TLSv1.2', sni: SERVER_HOST, clientSubject: ALLOWED_SUBJECT });
});

test('TLS 1.2 to a server that asks for no certificate: 107 at ServerHelloDone', async () => {
  const r = await tlsThroughGateway(PLAIN_HOST, { ...tls12, servername: PLAIN_HOST });
  expect(r.received).toBe('ok');
  expect((await verdictEvents(r.clientPort)).map((e) => e.id)).toEqual([103, 107]);
});

test('TLS 1.3 while a client allowlist is configured: 106 (the certificate is encrypted), naming the setting; the tunnel is closed', async () => {
  const r = await tlsThroughGateway(SERVER_HOST, { servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert });
  expect(r.received).toBe('');
  expect(r.protocol).toBeUndefined();
  const events = await verdictEvents(r.clientPort);
  expect(events.map((e) => [e.id, e.message])).toEqual([
    [103, expect.any(String)],
    [
      106,
      'Unsupported TLS version: the server selected TLSv1.3, which encrypts the client certificate, and the client allowlist has 1 subject(s) to check it against; ' +
        'to let TLS 1.3 through unchecked set tls.tls13ClientCertificate "allow"; to keep the check, the agent or the server must use TLS 1.2 (or empty allowedlist_client.txt)',
    ],
  ]);
});

test('a disallowed certificate subject: 105 with the subject', async () => {
  const r = await tlsThroughGateway(SERVER_HOST, { ...tls12, servername: SERVER_HOST, key: certs.otherClient.key, cert: certs.otherClient.cert });
  expect(r.received).toBe('');
  const events = await verdictEvents(r.clientPort);
  expect(events.map((e) => [e.id, e.message])).toEqual([
    [103, expect.any(String)],
    [105, `Invalid Client certificate: ${OTHER_SUBJECT}`],
  ]);
});

test('wrong SNI: 105', async () => {
  const r = await tlsThroughGateway(SERVER_HOST, { ...tls12, servername: PLAIN_HOST });
  expect(r.received).toBe('');
  const events = await verdictEvents(r.clientPort);
  expect(events.map((e) => [e.id, e.message])).toEqual([
    [103, expect.any(String)],
    [105, `SNI (${PLAIN_HOST}) does not match CONNECT host (${SERVER_HOST})`],
  ]);
});

test('garbage after CONNECT: 402, in a later packet or in the same one as the CONNECT', async () => {
  for (const samePacket of [false, true]) {
    const r = await garbageThroughGateway(PLAIN_HOST, samePacket);
    expect(r.received).toBe(''); // nothing from upstream reached the client
    const events = await verdictEvents(r.clientPort);
    expect(events.map((e) => [e.id, e.message])).toEqual([
      [103, expect.any(String)],
      [402, 'client sent plain text "GET / HTTP/1.1" at byte 0 instead of a TLS record'],
    ]);
  }
});

test('50 parallel mixed connections: every verdict once, Rejection and Error counts exact', async () => {
  const before = gateway.counters.snapshot();
  const kinds = ['ok', 'tls13', 'subject', 'sni', 'garbage'] as const;
  const expectedVerdict: Record<(typeof kinds)[number], number> = { ok: 107, tls13: 106, subject: 105, sni: 105, garbage: 402 };
  const jobs = Array.from({ length: 50 }, (_, i) => kinds[i % kinds.length]);
  const results = await Promise.all(
    jobs.map((kind) => {
      switch (kind) {
        case 'ok':
          return tlsThroughGateway(SERVER_HOST, { ...tls12, servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert });
        case 'tls13':
          return tlsThroughGateway(SERVER_HOST, { servername: SERVER_HOST });
        case 'subject':
          return tlsThroughGateway(SERVER_HOST, { ...tls12, servername: SERVER_HOST, key: certs.otherClient.key, cert: certs.otherClient.cert });
        case 'sni':
          return tlsThroughGateway(SERVER_HOST, { ...tls12, servername: PLAIN_HOST });
        case 'garbage':
          return garbageThroughGateway(PLAIN_HOST, false);
      }
    }),
  );
  const verdicts = await Promise.all(results.map((r) => verdictEvents(r.clientPort, 15000)));
  verdicts.forEach((events, i) => {
    const ids = events.map((e) => e.id);
    expect([jobs[i], ids]).toEqual([jobs[i], [103, expectedVerdict[jobs[i]]]]);
  });
  results.forEach((r, i) => expect([jobs[i], r.received]).toEqual([jobs[i], jobs[i] === 'ok' ? 'ok' : '']));
  const after = gateway.counters.snapshot();
  expect(after.rejectionCount - before.rejectionCount).toBe(30);
  expect(after.errorCount - before.errorCount).toBe(10);
});

test('policy from gateway options: the default without a client allowlist gives 107 for TLS 1.3 (noted); missing certificate rejected gives 105; preview-2016 gives 106', async () => {
  const strict = createGateway({
    listenHost: '127.0.0.1',
    listenPort: 0,
    adminPort: null,
    allowlist: [SERVER_HOST],
    hostMap: [`${SERVER_HOST}=127.0.0.1:${portOf(mtlsServer)}`],
    tls: { missingClientCertificate: 'reject' },
  });
  await strict.start();
  const saved = gateway;
  gateway = strict; // the helpers talk to `gateway`
  try {
    const r13 = await tlsThroughGateway(SERVER_HOST, { servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert });
    expect(r13.protocol).toBe('TLSv1.3');
    expect(r13.received).toBe('ok');
    const e13 = await verdictEvents(r13.clientPort);
    expect(e13.map((e) => e.id)).toEqual([103, 107]);
    expect(e13[1].message).toMatch(/version=TLSv1\.3.*TLS 1\.3: the client certificate is encrypted; no client allowlist to check it against/);

    const none = await tlsThroughGateway(SERVER_HOST, { ...tls12, servername: SERVER_HOST });
    expect(none.received).toBe('');
    const eNone = await verdictEvents(none.clientPort);
    expect(eNone.map((e) => e.id)).toEqual([103, 105]);
    expect(eNone[1].message).toMatch(/^Invalid Client certificate: none presented/);
    expect(strict.counters.snapshot()).toMatchObject({ rejectionCount: 1, errorCount: 0 });
  } finally {
    gateway = saved;
    await strict.close();
  }
  const preview = createGateway({
    listenHost: '127.0.0.1',
    listenPort: 0,
    adminPort: null,
    allowlist: [SERVER_HOST],
    hostMap: [`${SERVER_HOST}=127.0.0.1:${portOf(mtlsServer)}`],
    tls: { policy: 'preview-2016' },
  });
  await preview.start();
  gateway = preview;
  try {
    expect(preview.config.tls).toMatchObject({ minVersion: 'TLSv1', maxVersion: 'TLSv1.2' });
    const r = await tlsThroughGateway(SERVER_HOST, { servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert });
    expect(r.received).toBe('');
    const events = await verdictEvents(r.clientPort);
    expect(events.map((e) => [e.id, e.message])).toEqual([
      [103, expect.any(String)],
      [106, 'Unsupported TLS version: the server selected TLSv1.3; the gateway allows TLSv1, TLSv1.1, TLSv1.2 (policy preview-2016); to allow TLSv1.3 set tls.maxVersion "TLSv1.3" (--tls-max-version TLSv1.3, or the "current" policy)'],
    ]);
  } finally {
    gateway = saved;
    await preview.close();
  }
});
