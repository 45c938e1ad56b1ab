/** The fake cloud's TLS versions: today's Azure by default (1.2-1.3), the 2016 endpoints on request, bad values refused. */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { InputError } from '../../lib/errors.js';
import { cliPath } from '../../lib/paths.js';
import { spawnReady } from '../../harness/child.js';
import { createFakeCloud, type FakeCloud } from '../index.js';

const WS = '2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091';
const KEY = Buffer.alloc(32, 0x62).toString('base64');
const HOST = `${WS}.oms.opinsights.azure.com`;
const VERSIONS = 'TLSv1, TLSv1.1, TLSv1.2, TLSv1.3';

let dir: string;
const clouds: FakeCloud[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-cloud-tls-'));
});
afterEach(async () => {
  await Promise.all(clouds.splice(0).map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function cloudWith(extra: Parameters<typeof createFakeCloud>[0]['tls']): Promise<FakeCloud> {
  const cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }], tls: extra });
  clouds.push(cloud);
  await cloud.start();
  return cloud;
}

/** Direct TLS by SNI; the negotiated version, or the error code when the handshake fails. */
function handshake(cloud: FakeCloud, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: cloud.port, servername: HOST, ca: cloud.caCertPem, ...options }, () => {
      resolve(s.getProtocol() ?? 'none');
      s.destroy();
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

const legacy = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;

test('default: TLS 1.2 and 1.3 like today\'s Azure endpoints; a client offering both gets 1.3; TLS 1.1 is refused', async () => {
  const cloud = await cloudWith(undefined);
  expect(cloud.tls).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  expect(await handshake(cloud, {})).toBe('TLSv1.3');
  expect(await handshake(cloud, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
  expect(await handshake(cloud, legacy)).toMatch(/^error /);
});

test('maxVersion TLSv1.2 (the 2016 endpoints): a client offering 1.3 gets 1.2; minVersion TLSv1 lets a TLS 1.1 client in', async () => {
  const cloud2016 = await cloudWith({ maxVersion: 'TLSv1.2' });
  expect(await handshake(cloud2016, {})).toBe('TLSv1.2');
  expect(await handshake(cloud2016, { minVersion: 'TLSv1.3' })).toMatch(/^error /);
  const open = await cloudWith({ minVersion: 'TLSv1' });
  expect(await handshake(open, legacy)).toBe('TLSv1.1');
});

test.each([
  [{ minVersion: 'TLSv1.4' }, `tls.minVersion must be one of ${VERSIONS}, got "TLSv1.4"`],
  [{ maxVersion: 'SSLv3' }, `tls.maxVersion must be one of ${VERSIONS}, got "SSLv3"`],
  [{ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }, `tls.minVersion TLSv1.3 is above tls.maxVersion TLSv1.2; versions, lowest first: ${VERSIONS}`],
])('createFakeCloud refuses tls %j before starting anything', (value, message) => {
  let error: unknown;
  try {
    createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }], tls: value as never });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(InputError);
  expect((error as Error).message).toBe(message);
});

test.each([
  [['--tls-max-version', '1.3'], `--tls-max-version must be one of ${VERSIONS}, got "1.3"`],
  [['--tls-min-version', 'TLSv1.3', '--tls-max-version', 'TLSv1.2'], `--tls-min-version TLSv1.3 is above --tls-max-version TLSv1.2; versions, lowest first: ${VERSIONS}`],
  [['--tls-max-version', 'TLSv1.1'], `--tls-min-version TLSv1.2 is above --tls-max-version TLSv1.1 (--tls-min-version defaults to TLSv1.2); versions, lowest first: ${VERSIONS}`],
])('omsgw cloud %j exits 2 naming the flag and the allowed values, nothing started', (flags, message) => {
  const r = spawnSync(process.execPath, [cliPath(), 'cloud', '--state-dir', join(dir, 'cli'), ...flags], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stdout).not.toContain('omsgw-cloud-ready');
});

/** The ticket a TLS 1.2 client was given, once the server had time to send it after the handshake. */
function ticketOf(port: number, ca: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: HOST, ca, maxVersion: 'TLSv1.2' }, () => {
      resolve(s.getTLSTicket());
      s.destroy();
    });
    s.once('error', reject);
  });
}

test('session tickets: issued by default; sessionTickets false issues none (what omsgw load runs)', async () => {
  const withTickets = await cloudWith(undefined);
  expect((await ticketOf(withTickets.port, withTickets.caCertPem))?.length).toBeGreaterThan(0);
  const cloud = createFakeCloud({ stateDir: join(dir, 'cloud-nt'), workspaces: [{ id: WS, key: KEY }], sessionTickets: false });
  clouds.push(cloud);
  await cloud.start();
  expect(await ticketOf(cloud.port, cloud.caCertPem)).toBeUndefined();
  expect(await handshake(cloud, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
});

test('omsgw cloud --no-session-tickets issues none; without the flag a ticket comes', async () => {
  const start = (flags: string[], name: string) =>
    spawnReady<{ port: number; caCertPath: string }>(process.execPath, [cliPath(), 'cloud', '--state-dir', join(dir, name), '--workspace', `${WS}:${KEY}`, '--json', ...flags], { prefix: 'omsgw-cloud-ready' });
  const plain = await start([], 'cli-t');
  const none = await start(['--no-session-tickets'], 'cli-nt').catch(async (err: unknown) => {
    await plain.stop();
    throw err;
  });
  try {
    expect((await ticketOf(plain.info.port, readFileSync(plain.info.caCertPath, 'utf8')))?.length).toBeGreaterThan(0);
    expect(await ticketOf(none.info.port, readFileSync(none.info.caCertPath, 'utf8'))).toBeUndefined();
  } finally {
    await Promise.all([plain.stop(), none.stop()]);
  }
});

test('server certificates: an ECDSA P-256 leaf (a lab choice: cheap handshakes) signed by the RSA 2048 lab CA', async () => {
  const cloud = await cloudWith(undefined);
  const leaf = await new Promise<X509Certificate>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: cloud.port, servername: HOST, ca: cloud.caCertPem, maxVersion: 'TLSv1.2' }, () => {
      resolve(s.getPeerX509Certificate()!);
      s.destroy();
    });
    s.once('error', reject);
  });
  const ca = new X509Certificate(cloud.caCertPem);
  expect(leaf.publicKey.asymmetricKeyType).toBe('ec');
  expect(leaf.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
  expect(ca.publicKey.asymmetricKeyType).toBe('rsa');
  expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  expect(leaf.verify(ca.publicKey)).toBe(true);
  expect(leaf.checkHost(HOST)).toBe(HOST);
});

/** openssl s_client against the in-process cloud (asynchronously: the cloud answers on this event loop). */
function sClient(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['s_client', ...args], { timeout: 20_000 }, (err, stdout) => (err && !stdout ? reject(err) : resolve(stdout)));
    child.stdin?.end();
  });
}

test('the server sends its leaf alone (the lab CA is the trust anchor clients hold), and Debian openssl verifies it against the CA file', async () => {
  const cloud = await cloudWith(undefined);
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-chain-'));
  try {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, cloud.caCertPem);
    const out = await sClient(['-connect', `127.0.0.1:${cloud.port}`, '-servername', HOST, '-CAfile', caFile, '-showcerts']);
    expect(out.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(1);
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    // The control: without the CA file the same leaf does not verify, so the check above has teeth.
    const bare = await sClient(['-connect', `127.0.0.1:${cloud.port}`, '-servername', HOST, '-no-CAfile', '-no-CApath', '-no-CAstore']);
    expect(bare).toMatch(/Verify return code: (20|21) /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
