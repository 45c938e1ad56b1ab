/** `omsgw agent ama` as a child process through a real gateway (needs the build, as `npm test` does). */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { createFakeCloud, type FakeCloud } from '../../fake-oms-endpoints/index.js';
import { amaAllowlistHosts } from '../../fake-oms-endpoints/ama/hosts.js';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { defaultHosts } from '../../gateway/init.js';

const WS = '2e4f6a8c-0b1d-4e3f-a5b7-c9d1e3f5a7b9';

function omsgw(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(), ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let caFile: string;
let cloud: FakeCloud;
let gw2016: Gateway;
let gwAma: Gateway;

beforeAll(async () => {
  if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), 'omsgw-ama-cli-'));
  cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: Buffer.from('ama cli test key, 32 bytes long!').toString('base64') }] });
  await cloud.start();
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, cloud.caCertPem);
  gw2016 = createGateway({ listenPort: 0, adminPort: null, allowlist: defaultHosts(WS), hostMap: cloud.hostMapEntries() });
  gwAma = createGateway({ listenPort: 0, adminPort: null, allowlist: [...defaultHosts(WS), ...amaAllowlistHosts(WS, 'eastus')], hostMap: cloud.hostMapEntries() });
  await gw2016.start();
  await gwAma.start();
});

afterAll(async () => {
  await gw2016?.close();
  await gwAma?.close();
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = () => ['agent', 'ama', '--workspace', WS, '--ca', caFile, '--seed', '3', '--once'];

test('--once through a gateway that allows the AMA hosts: configured, delivered, exit 0, and the cloud has the records', async () => {
  const r = await omsgw([...base(), '--proxy-mode', 'application', '--proxy-address', `http://127.0.0.1:${gwAma.proxyAddress.port}`, '--json']);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { ok: boolean; status: { agentId: string; configured: boolean; delivered: number; created: number }[] };
  expect(out.ok).toBe(true);
  expect(out.status[0]).toMatchObject({ configured: true });
  expect(out.status[0]!.delivered).toBe(out.status[0]!.created);
  expect(cloud.ledger.totals({ agentId: out.status[0]!.agentId }).records).toBe(out.status[0]!.created);
});

test('--count 2 --bind-range: two machines from two loopback addresses, both delivered', async () => {
  const r = await omsgw(['agent', 'ama', '--workspace', WS, '--ca', caFile, '--seed', '4', '--once', '--count', '2', '--bind-range', '127.0.43.0/30', '--proxy-mode', 'application', '--proxy-address', `http://127.0.0.1:${gwAma.proxyAddress.port}`]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/from 127\.0\.43\.1: configured, \d+ delivered, 0 queued/);
  expect(r.stdout).toMatch(/from 127\.0\.43\.2: configured, \d+ delivered, 0 queued/);
  expect(r.stdout).toMatch(/created = acknowledged \+ queued \+ dropped: (\d+) = \1 \+ 0 \+ 0 ok/);
});

test('--once through a 2016-style gateway: exit 1 naming the config phase and the 403', async () => {
  const r = await omsgw([...base(), '--proxy-mode', 'application', '--proxy-address', `http://127.0.0.1:${gw2016.proxyAddress.port}`]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/FAILED in phase config: Proxy CONNECT refused: 403 Forbidden/);
  expect(r.stdout).toContain('ledger (ama): created 0, acknowledged 0, queued 0, dropped 0');
});

test.each([
  [['--proxy-mode', 'application'], 'proxy mode "application" needs an address'],
  [['--proxy-mode', 'application', '--proxy-address', 'http://127.0.0.1:8080', '--proxy-auth', 'nocolon'], '--proxy-auth must be user:password'],
  [['--proxy-mode', 'manual'], "argument 'manual' is invalid"],
  [['--proxy-mode', 'none'], 'proxy mode "none" needs direct {host, port}'],
  [['--proxy-mode', 'none', '--direct', 'example.com:443'], '--direct must be a loopback host:port'],
  [['--proxy-mode', 'application', '--proxy-address', 'http://127.0.0.1:8080', '--region', 'East US'], 'region must be an Azure region name like eastus'],
])('bad flags %j exit 2: %s', async (args, message) => {
  const r = await omsgw([...base(), ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});
