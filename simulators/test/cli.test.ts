/** `omsgw agent ...` as a child process (needs `npx tsc -p tsconfig.build.json` first, as `npm test` does). */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { createFakeCloud, type FakeCloud } from '../../fake-oms-endpoints/index.js';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { defaultHosts } from '../../gateway/init.js';
import { isInputError } from '../../lib/errors.js';
import { fleetFromFlags } from '../../cli/commands/agent.js';
import { KeyPool } from '../agent-core/index.js';

const WS = '7c6b5a49-3827-4165-9f8e-7d6c5b4a3928';
const KEY = Buffer.from('cli test workspace key').toString('base64');

function omsgw(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(), ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let caFile: string;
let cloud: FakeCloud;
let gwDefault: Gateway;
let gwFixed: Gateway;

beforeAll(async () => {
  if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run npx tsc -p tsconfig.build.json first`);
  dir = mkdtempSync(join(tmpdir(), 'omsgw-sim-cli-'));
  cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }] });
  await cloud.start();
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, cloud.caCertPem);
  gwDefault = createGateway({ listenPort: 0, adminPort: null, allowlist: defaultHosts(WS), hostMap: cloud.hostMapEntries() });
  gwFixed = createGateway({ listenPort: 0, adminPort: null, allowlist: [...defaultHosts(WS), 'scus-agentservice-prod-1.azure-automation.net'], hostMap: cloud.hostMapEntries() });
  await gwDefault.start();
  await gwFixed.start();
  // Keys generated once here; the CLI runs reuse them through --key-cache (key generation is slow on busy cores).
  await new KeyPool({ size: 3, cacheDir: keyDir() }).warm();
});

afterAll(async () => {
  await gwDefault?.close();
  await gwFixed?.close();
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

const keyDir = () => join(dir, 'keys');
const base = () => ['--workspace', WS, '--key', KEY, '--ca', caFile, '--key-cache', keyDir()];

const flags = (extra: Record<string, string | boolean>) => ({ workspace: WS, key: KEY, ca: caFile, proxy: '127.0.0.1:8080', count: '1', duration: '1m', speed: '60', queueLimit: '10000', ...extra });

describe('flag validation: InputError (exit 2) with a message that says what to fix', () => {
  test.each([
    [{ proxy: 'socks5://127.0.0.1:1080' }, /scheme "socks5:\/\/"/],
    [{ bindRange: '127.0.1.0/33' }, /prefix length must be between 8 and 32/],
    [{ bindRange: '10.0.0.0/24' }, /not on loopback/],
    [{ bindRange: '127.0.1.5/24' }, /did you mean 127\.0\.1\.0\/24/],
    [{ bindRange: 'lots' }, /not a CIDR block/],
    [{ bindRange: '127.0.1.0/30', count: '3' }, /--count 3 is larger than --bind-range 127.0.1.0\/30, which has 2 usable addresses/],
    [{ count: '0' }, /--count must be a whole number/],
    [{ count: '2.5' }, /--count must be a whole number/],
    [{ duration: '10 minutes' }, /--duration "10 minutes" is not a duration/],
    [{ duration: '600h' }, /--duration 600h is too long: at most 596h/],
    [{ speed: '-1' }, /--speed must be a number greater than 0/],
    [{ tlsMinVersion: 'TLSv1.3' }, /tls.minVersion TLSv1.3 is above tls.maxVersion TLSv1.2 .*--tls-max-version/],
    [{ queueLimit: 'many' }, /--queue-limit must be a whole number/],
    [{ workspace: 'ws1' }, /must be a GUID/],
    [{ key: 'not base64!' }, /base64 shared key/],
    [{ ca: '/nonexistent/ca.pem' }, /cannot read --ca \/nonexistent\/ca\.pem: ENOENT/],
  ])('%j', (extra, message) => {
    let err: unknown;
    try {
      fleetFromFlags('linux', flags(extra) as never);
    } catch (e) {
      err = e;
    }
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  test('the CLI prints the message and exits 2, also for flags commander checks', async () => {
    const r = await omsgw(['agent', 'linux', ...base(), '--proxy', '127.0.0.1:8080', '--bind-range', '10.0.0.0/24']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^omsgw: bind range "10.0.0.0\/24" is not on loopback/);
    const missing = await omsgw(['agent', 'windows', ...base()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("omsgw: required option '--proxy <url>' not specified (run omsgw agent windows --help for usage)\n");
    const model = await omsgw(['agent', 'linux', ...base(), '--proxy', '127.0.0.1:8080', '--behavior', 'fluentd']);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/--behavior.*'fluentd' is invalid\. Allowed choices are omsagent, mma, ideal/);
    const load = await omsgw(['load', '--agents', '2', '--behavior', 'smart']);
    expect(load.code).toBe(2);
    expect(load.stderr).toMatch(/--behavior.*'smart' is invalid\. Allowed choices are omsagent, mma, ideal/);
    const notAgents = await omsgw(['load', '--profile', 'idle', '--behavior', 'ideal']);
    expect(notAgents.code).toBe(2);
    expect(notAgents.stderr).toMatch(/--behavior has no effect with --profile idle/);
    const help = await omsgw(['agent', 'windows', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
  });
});

describe('runs against the gateway and fake cloud', () => {
  test('--once: a Windows agent onboards and delivers (exit 0)', async () => {
    const r = await omsgw(['agent', 'windows', ...base(), '--proxy', `127.0.0.1:${gwDefault.proxyAddress.port}`, '--once', '--seed', 'cli-1']);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok, \d+ records delivered/);
    expect(r.stdout).toMatch(/created = acknowledged \+ queued \+ dropped: (\d+) = \1 \+ 0 \+ 0 ok/);
  });

  test('--once: a Linux agent behind the default allowlist exits 1 with the proxy refusal', async () => {
    const r = await omsgw(['agent', 'linux', ...base(), '--proxy', `http://127.0.0.1:${gwDefault.proxyAddress.port}`, '--once', '--seed', 'cli-2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: Proxy CONNECT refused: 403/);
    expect(r.stderr).toMatch(/1 of 1 agent\(s\) failed: Proxy CONNECT refused: 403/);
  });

  test('a short accelerated run with a fleet prints per-OS status and a balanced final ledger', async () => {
    const r = await omsgw(['agent', 'linux', ...base(), '--proxy', `127.0.0.1:${gwFixed.proxyAddress.port}`, '--count', '3', '--bind-range', '127.0.5.0/29', '--duration', '3s', '--speed', '120', '--seed', 'cli-3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/linux\s+agents\s+3\s+onboarded\s+3\s+registered\s+3/);
    const m = /final ledger \(linux\): created (\d+), acknowledged (\d+), queued (\d+), dropped 0/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/ok$/m);
  });
});
