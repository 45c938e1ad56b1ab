import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCloud, type FakeCloud } from '../index.js';
import { makeAgentCert, type ClientCert } from './helpers.js';

// What a passive gateway sees: the bytes an agent sends into a CONNECT tunnel to the cloud.
const WS = '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b';
const KEY = Buffer.alloc(32, 0x12).toString('base64');

let dir: string;
let cloud: FakeCloud;
let cert: ClientCert;
let relay: net.Server;
let captured: Buffer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-cloud-wire-'));
  cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }] });
  await cloud.start();
  cert = await makeAgentCert(WS, 'linux');
  // A recording TCP relay standing where the gateway would be.
  relay = net.createServer((client) => {
    const upstream = net.connect(cloud.port, '127.0.0.1');
    client.on('data', (d: Buffer) => captured.push(d));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  await new Promise((r) => relay.close(r));
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
});

async function handshakeThroughRelay(maxVersion: tls.SecureVersion): Promise<string | null> {
  captured = [];
  const port = (relay.address() as net.AddressInfo).port;
  const tunnel = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT ${WS}.oms.opinsights.azure.com:443 HTTP/1.1\r\nHost: ${WS}.oms.opinsights.azure.com:443\r\n\r\n`));
    s.once('data', (d) => (/^HTTP\/1.1 200/.test(d.toString()) ? resolve(s) : reject(new Error(d.toString()))));
    s.once('error', reject);
  });
  const socket = tls.connect({ socket: tunnel, servername: `${WS}.oms.opinsights.azure.com`, ca: cloud.caCertPem, cert: cert.certPem, key: cert.keyPem, maxVersion });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  // An answer proves the client's whole flight (Certificate, CertificateVerify, Finished) passed the relay.
  socket.write(`GET /nothing HTTP/1.1\r\nHost: ${WS}.oms.opinsights.azure.com\r\n\r\n`);
  const answer = await new Promise<string>((r) => socket.once('data', (d) => r(d.toString())));
  expect(answer).toMatch(/^HTTP\/1.1 404/);
  const version = socket.getProtocol();
  socket.destroy();
  return version;
}

test('TLS 1.2: the cloud requests a client certificate and the agent sends it in clear text', async () => {
  expect(await handshakeThroughRelay('TLSv1.2')).toBe('TLSv1.2');
  const der = Buffer.from(cert.pemBody.replace(/\s+/g, ''), 'base64');
  expect(Buffer.concat(captured).indexOf(der)).toBeGreaterThan(0);
});

test('TLS 1.3: the cloud speaks it, and the certificate is no longer visible on the wire', async () => {
  expect(await handshakeThroughRelay('TLSv1.3')).toBe('TLSv1.3');
  const der = Buffer.from(cert.pemBody.replace(/\s+/g, ''), 'base64');
  expect(Buffer.concat(captured).indexOf(der)).toBe(-1);
});
