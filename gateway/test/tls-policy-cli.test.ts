/**
 * The TLS policy of `omsgw gateway` as a child process (dist/cli/omsgw.js): the default accepts
 * TLS 1.0-1.3, --tls-policy / --tls-min-version / --tls-max-version and gateway.json "tls" narrow
 * it, PUT /api/config changes it live, and bad values stop the process (exit 2, nothing started).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as connectTls, type SecureVersion } from 'node:tls';
import { cliPath } from '../../lib/paths.js';
import { GatewayStartError, spawnGateway, type GatewayProcess } from '../process.js';
import { connectRequest, eventually, gatewayProcessesPerTest, makeServerCert, rawRequest, startTlsEcho, type TestServer } from './support.js';

const HOST = 'ws.oms.opinsights.azure.com';
const VERSIONS = 'TLSv1, TLSv1.1, TLSv1.2, TLSv1.3';
const gateways = gatewayProcessesPerTest();
let cert: { key: Buffer; cert: Buffer };
let echo: TestServer;

beforeAll(async () => {
  cert = makeServerCert(HOST);
  echo = await startTlsEcho(cert);
});
afterAll(() => echo.close());

const base = () => ['--allow-host', HOST, '--host-map', `${HOST}=127.0.0.1:${echo.port}`, '--admin-port', '0', '--listen-port', '0', '--quiet'];

const spawn = (args: string[]): Promise<GatewayProcess> => gateways.spawn(args);

interface Event {
  id: number;
  message: string;
  clientPort?: number;
  fields?: Record<string, unknown>;
}

async function eventsOf(child: GatewayProcess, clientPort: number): Promise<Event[]> {
  const res = await fetch(`${child.adminUrl}/api/events?id=103,106,107`);
  return ((await res.json()) as { events: Event[] }).events.filter((e) => e.clientPort === clientPort);
}

/** One handshake through the child; the verdict events of that connection once it has one. */
async function handshake(child: GatewayProcess, version: SecureVersion): Promise<{ protocol: string | null; events: Event[] }> {
  const reply = await rawRequest(child.proxyPort, connectRequest(`${HOST}:443`));
  expect(reply.status).toBe(200);
  const clientPort = reply.socket.localPort!;
  const protocol = await new Promise<string | null>((resolve) => {
    const s = connectTls({ socket: reply.socket, servername: HOST, ca: cert.cert, minVersion: version, maxVersion: version }, () => {
      resolve(s.getProtocol());
      s.destroy();
    });
    s.once('error', () => resolve(null));
    s.once('close', () => resolve(null));
  });
  const events = await eventually(async () => {
    const e = await eventsOf(child, clientPort);
    return e.length >= 2 ? e : undefined;
  }, 'verdict event');
  return { protocol, events };
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('defaults: TLS 1.3 and TLS 1.2 are both verified (107 carries the version); GET /api/config shows TLSv1..TLSv1.3', async () => {
  const child = await spawn(base());
  const config = (await (await fetch(`${child.adminUrl}/api/config`)).json()) as { config: { tls: Record<string, unknown> } };
  expect(config.config.tls).toMatchObject({ minVersion: 'TLSv1', maxVersion: 'TLSv1.3', tls13ClientCertificate: 'reject' });
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    const r = await handshake(child, version);
    expect(r.protocol).toBe(version);
    expect(r.events.map((e) => e.id)).toEqual([103, 107]);
    expect(r.events[1].fields).toMatchObject({ version });
  }
});

test('--tls-policy preview-2016: TLS 1.3 gets 106 naming --tls-max-version; TLS 1.2 passes', async () => {
  const child = await spawn([...base(), '--tls-policy', 'preview-2016']);
  const r13 = await handshake(child, 'TLSv1.3');
  expect(r13.protocol).toBeNull();
  expect(r13.events.map((e) => [e.id, e.message])).toEqual([
    [103, expect.any(String)],
    [106, 'Unsupported TLS version: the client offers only TLSv1.3; the gateway allows TLSv1, TLSv1.1, TLSv1.2 (policy preview-2016); to allow TLSv1.3 set tls.maxVersion "TLSv1.3" (--tls-max-version TLSv1.3, or the "current" policy)'],
  ]);
  const r12 = await handshake(child, 'TLSv1.2');
  expect(r12.events.map((e) => e.id)).toEqual([103, 107]);
});

test('gateway.json "tls" sets the policy, flags win over it, and PUT /api/config changes it live (saved to the file)', async () => {
  const file = join(gateways.dir, 'gateway.json');
  writeFileSync(file, JSON.stringify({ tls: { policy: 'preview-2016', missingSni: 'reject' } }));
  const fromFile = await spawn([...base(), '--config', file]);
  expect((await handshake(fromFile, 'TLSv1.3')).events.map((e) => e.id)).toEqual([103, 106]);

  const flagWins = await spawn([...base(), '--config', file, '--tls-max-version', 'TLSv1.3']);
  const shown = (await (await fetch(`${flagWins.adminUrl}/api/config`)).json()) as { config: { tls: Record<string, unknown> } };
  expect(shown.config.tls).toMatchObject({ minVersion: 'TLSv1', maxVersion: 'TLSv1.3', missingSni: 'reject' });
  expect((await handshake(flagWins, 'TLSv1.3')).events.map((e) => e.id)).toEqual([103, 107]);

  const put = await fetch(`${flagWins.adminUrl}/api/config`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tls: { maxVersion: 'TLSv1.2' } }) });
  expect(put.status).toBe(200);
  const body = (await put.json()) as { applied: string[]; config: { tls: Record<string, unknown> } };
  expect(body.applied).toEqual(['tls']);
  // Only the named field changed: missingSni from the file is kept.
  expect(body.config.tls).toMatchObject({ maxVersion: 'TLSv1.2', missingSni: 'reject' });
  const after = await handshake(flagWins, 'TLSv1.3');
  expect(after.events.map((e) => e.id)).toEqual([103, 106]);
  expect(after.events[1].message).toContain('set tls.maxVersion "TLSv1.3"');
  expect(JSON.parse(readFileSync(file, 'utf8')).tls).toMatchObject({ maxVersion: 'TLSv1.2', missingSni: 'reject' });

  const bad = await fetch(`${flagWins.adminUrl}/api/config`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tls: { minVersion: 'TLSv1.3' } }) });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toBe(`"tls": minVersion TLSv1.3 is above maxVersion TLSv1.2; versions, lowest first: ${VERSIONS}`);
  // The refused change left the running policy alone.
  expect((await handshake(flagWins, 'TLSv1.2')).events.map((e) => e.id)).toEqual([103, 107]);
});

describe('bad TLS settings: exit 2 naming the field and the allowed values, nothing started', () => {
  test.each([
    [['--tls-min-version', 'TLSv1.0'], `--tls-min-version must be one of ${VERSIONS}, got "TLSv1.0"`],
    [['--tls-max-version', 'tls13'], `--tls-max-version must be one of ${VERSIONS}, got "tls13"`],
    [['--tls-policy', 'strict'], '--tls-policy must be one of current, preview-2016, got "strict"'],
    [['--tls-min-version', 'TLSv1.3', '--tls-max-version', 'TLSv1.2'], `--tls-min-version TLSv1.3 --tls-max-version TLSv1.2: the minimum TLS version TLSv1.3 is above the maximum TLSv1.2; versions, lowest first: ${VERSIONS}`],
  ])('%j', (flags, message) => {
    const r = cli(['gateway', ...base(), ...flags]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toContain('401  Bad configuration');
    expect(r.stdout).not.toContain('omsgw-gateway-ready');
  });

  test.each([
    [{ tls: { maxVersion: 'TLSv1.4' } }, '"tls".maxVersion: must be one of "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (got "TLSv1.4")'],
    [{ tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.1' } }, `"tls": minVersion TLSv1.3 is above maxVersion TLSv1.1; versions, lowest first: ${VERSIONS}`],
    [{ tls: { allowTls13: true } }, '"tls".allowTls13: replaced by maxVersion (TLS 1.3 is now allowed by default): write "maxVersion": "TLSv1.3" for true, or "policy": "preview-2016" (or "maxVersion": "TLSv1.2") for false'],
  ])('gateway.json %j', async (config, message) => {
    const file = join(gateways.dir, 'gateway.json');
    writeFileSync(file, JSON.stringify(config));
    const err = await spawnGateway([...base(), '--config', file]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayStartError);
    expect((err as GatewayStartError).code).toBe(2);
    expect((err as GatewayStartError).stderr).toContain(message);
    expect((err as GatewayStartError).stdout).not.toContain('omsgw-gateway-ready');
  });
});
