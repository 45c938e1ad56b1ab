import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { isInputError } from '../../lib/errors.js';
import { createFakeCloud, type FakeCloudOptions } from '../index.js';
import { loadOrCreateLabCa } from '../lab-ca.js';
import { makeAgentCert, openTls, request } from './helpers.js';

const WS = '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f';
const KEY = Buffer.alloc(32, 0x61).toString('base64');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-cloud-life-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

function rawConnect(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.once('close', () => resolve(out));
    s.once('error', reject);
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

test('lab CA is created once in stateDir and reused by the next cloud', async () => {
  const a = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }] });
  await a.start();
  const pem = a.caCertPem;
  expect(a.caCertPath).toBe(join(dir, 'ca.pem'));
  expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(pem);
  expect(existsSync(join(dir, 'ca-key.pem'))).toBe(true);
  await a.close();
  const b = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }] });
  await b.start();
  try {
    expect(b.caCertPem).toBe(pem);
    // A certificate issued by the second cloud verifies against the first cloud's CA file.
    const s = await openTls({ port: b.port, host: `${WS}.oms.opinsights.azure.com`, ca: pem });
    expect(s.authorized).toBe(true);
    expect(s.getPeerCertificate().subjectaltname).toBe(`DNS:${WS}.oms.opinsights.azure.com`);
    s.destroy();
  } finally {
    await b.close();
  }
});

test('a damaged or half-present CA is reported, not silently replaced', async () => {
  writeFileSync(join(dir, 'ca.pem'), 'garbage');
  await expect(createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }] }).start()).rejects.toThrow(/ca-key.pem is missing while .*ca.pem exists/);
  writeFileSync(join(dir, 'ca-key.pem'), 'garbage');
  await expect(createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }] }).start()).rejects.toThrow(/ca.pem is not a PEM certificate.*delete ca.pem and ca-key.pem/);
});

test('CA file problems are InputErrors (the CLI exits 2), including a key from another CA', async () => {
  const a = mkdtempSync(join(tmpdir(), 'fake-cloud-ca-a-'));
  const b = mkdtempSync(join(tmpdir(), 'fake-cloud-ca-b-'));
  try {
    await Promise.all([loadOrCreateLabCa(a), loadOrCreateLabCa(b)]);
    writeFileSync(join(a, 'ca-key.pem'), readFileSync(join(b, 'ca-key.pem')));
    const mixed = await loadOrCreateLabCa(a).catch((e: unknown) => e);
    expect(isInputError(mixed)).toBe(true);
    expect((mixed as Error).message).toMatch(/ca-key.pem is not the private key of .*ca.pem.*delete both to regenerate/);
    rmSync(join(b, 'ca.pem'));
    const half = await loadOrCreateLabCa(b).catch((e: unknown) => e);
    expect(isInputError(half)).toBe(true);
    expect((half as Error).message).toMatch(/ca.pem is missing while .*ca-key.pem exists/);
    const notDir = await loadOrCreateLabCa(join(b, 'ca-key.pem')).catch((e: unknown) => e);
    expect(isInputError(notDir)).toBe(true);
    expect((notDir as Error).message).toMatch(/state folder for the lab CA .*ca-key\.pem: .*ca-key\.pem is a file, not a folder/);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('a port already in use is an InputError naming it (exit 2 in the CLI)', async () => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const taken = (holder.address() as net.AddressInfo).port;
  try {
    for (const opts of [{ port: taken }, { adminPort: taken }]) {
      const err = await createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], ...opts }).start().catch((e: unknown) => e);
      expect(isInputError(err)).toBe(true);
      expect((err as Error).message).toBe(`port ${taken} on 127.0.0.1 is already in use: choose another port (0 = any free port)`);
    }
  } finally {
    await new Promise((r) => holder.close(r));
  }
});

test('close() frees the port, the admin port and open connections', async () => {
  const cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], adminPort: 0 });
  await cloud.start();
  const { port, adminPort } = cloud;
  const idle = await openTls({ port, host: `${WS}.ods.opinsights.azure.com`, ca: cloud.caCertPem, viaConnect: true });
  const idleClosed = new Promise((r) => idle.once('close', r));
  await cloud.close();
  await idleClosed;
  expect(await refused(port)).toBe(true);
  expect(await refused(adminPort!)).toBe(true);
  const again = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], port, adminPort });
  await again.start();
  expect(again.port).toBe(port);
  await again.close();
});

test.each<[string, Partial<FakeCloudOptions>, RegExp]>([
  ['no workspaces', { workspaces: [] }, /at least one workspace/],
  ['workspace id not a GUID', { workspaces: [{ id: 'contoso', key: KEY }] }, /must be a GUID, got "contoso"/],
  ['key not base64', { workspaces: [{ id: WS, key: 'pa ss' }] }, /key must be base64/],
  ['duplicate workspace', { workspaces: [{ id: WS, key: KEY }, { id: WS.toUpperCase(), key: KEY }] }, /listed twice/],
  ['a host that is neither loopback nor an IP address', { host: 'example.com' }, /host must be a loopback address or an IP address to listen on .*got example.com/],
  ['bad port', { port: 70000 }, /port must be an integer/],
  ['same port twice', { port: 8443, adminPort: 8443 }, /port and adminPort are both 8443/],
  ['body limit 0', { maxBodyBytes: 0 }, /maxBodyBytes must be a whole number >= 1, got 0/],
])('bad options: %s', (_n, patch, msg) => {
  let err: unknown;
  try {
    createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], ...patch });
  } catch (e) {
    err = e;
  }
  expect(isInputError(err)).toBe(true);
  expect((err as Error).message).toMatch(msg);
});

test('host 0.0.0.0 (a container) listens on every address: reachable on loopback, the lab CA served at /_lab/ca.pem', async () => {
  const cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], host: '0.0.0.0', adminPort: 0 });
  await cloud.start();
  try {
    expect(cloud.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${cloud.adminUrl}/_lab/ca.pem`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(cloud.caCertPem);
    const info = (await (await fetch(`${cloud.adminUrl}/_lab/info`)).json()) as { service: string };
    expect(info.service).toBe('omsgw-cloud');
  } finally {
    await cloud.close();
  }
});

test('the proxy side: only CONNECT to served hosts on 443', async () => {
  const cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }] });
  await cloud.start();
  try {
    expect(await rawConnect(cloud.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')).toMatch(/^HTTP\/1.1 502 .*does not serve example.com/s);
    expect(await rawConnect(cloud.port, `CONNECT ${WS}.oms.opinsights.azure.com:80 HTTP/1.1\r\n\r\n`)).toMatch(/^HTTP\/1.1 502 .*port 443 only/s);
    expect(await rawConnect(cloud.port, 'CONNECT nonsense HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1.1 400 /);
    expect(await rawConnect(cloud.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1.1 405 /);
  } finally {
    await cloud.close();
  }
});

test('requestClientCertificate: false means agents cannot authenticate to ODS', async () => {
  const cloud = createFakeCloud({ stateDir: dir, workspaces: [{ id: WS, key: KEY }], requestClientCertificate: false });
  await cloud.start();
  try {
    const cert = await makeAgentCert(WS, 'linux');
    const r = await request({ port: cloud.port, host: `${WS}.ods.opinsights.azure.com`, path: '/OperationalData.svc/PostJsonDataItems', ca: cloud.caCertPem, cert, body: '{}' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).Error).toBe('MissingCertificate');
  } finally {
    await cloud.close();
  }
});

describe('omsgw cloud (child process; needs `npx tsc -p tsconfig.build.json`)', () => {
  const run = (args: string[]) => spawn(process.execPath, [cliPath(), 'cloud', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

  const exitOf = async (args: string[]) => {
    const p = run(args);
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => p.once('exit', r));
    return { code, err };
  };

  test('bad --workspace exits 2 with a message', async () => {
    expect(await exitOf(['--workspace', 'not-a-guid:abc', '--state-dir', dir])).toEqual({ code: 2, err: expect.stringMatching(/--workspace id must be a GUID/) });
    expect(await exitOf(['--port', '80a', '--state-dir', dir])).toEqual({ code: 2, err: expect.stringMatching(/--port must be a port number 0-65535/) });
  });

  test('a --port already in use exits 2 naming the port', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      expect(await exitOf(['--port', String(taken), '--state-dir', dir])).toEqual({ code: 2, err: expect.stringContaining(`port ${taken} on 127.0.0.1 is already in use`) });
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  test('prints how to reach it, serves, and stops on SIGTERM', async () => {
    const p = run(['--state-dir', dir, '--workspace', `${WS}:${KEY}`]);
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    let out = '';
    const ready = await new Promise<any>((resolve, reject) => {
      p.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('omsgw-cloud-ready '));
        if (line) resolve(JSON.parse(line.slice('omsgw-cloud-ready '.length)));
      });
      p.once('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    try {
      expect(out).toContain(`lab CA (agents must trust it): ${join(dir, 'ca.pem')}`);
      expect(out).toContain(`as a relay proxy: http://127.0.0.1:${ready.port}`);
      expect(out).toContain(`*.opinsights.azure.com=127.0.0.1:${ready.port}`);
      expect(ready.workspaces).toEqual([{ id: WS, key: KEY }]);
      const body = await new Promise<string>((resolve, reject) =>
        http.get(`http://127.0.0.1:${ready.adminPort}/_lab/ingested`, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        }).once('error', reject),
      );
      expect(JSON.parse(body).totals.posts).toBe(0);
      const s = await openTls({ port: ready.port, host: `${WS}.oms.opinsights.azure.com`, ca: readFileSync(ready.caCertPath, 'utf8'), viaConnect: true });
      s.destroy();
    } finally {
      p.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
