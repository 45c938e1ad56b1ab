/**
 * The agents through squid, a CONNECT proxy that is not ours: squid forwards every CONNECT to the
 * fake cloud as its parent proxy (no DNS needed). squid is a Debian package that .ci/run installs: when
 * it is missing these tests fail, saying so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCloud, type FakeCloud } from '../../fake-oms-endpoints/index.js';
import { createAgent, KeyPool, type SimulatedAgent } from '../agent-core/index.js';

const SQUID_PATHS = ['/usr/sbin/squid', '/usr/bin/squid'];

function squidBinary(): string {
  const found = SQUID_PATHS.find((p) => existsSync(p));
  if (!found) throw new Error(`squid is not installed (looked in ${SQUID_PATHS.join(', ')}): install the Debian package squid, as .ci/run does`);
  return found;
}
const WS = '1d2c3b4a-5968-4776-8594-a3b2c1d0e9f8';
const KEY = Buffer.from('squid test workspace key').toString('base64');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitListening(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`squid did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('through squid', () => {
  let dir: string;
  let cloud: FakeCloud;
  let squid: ChildProcess;
  let port: number;
  const agents: SimulatedAgent[] = [];
  const keyPool = new KeyPool({ size: 1 });

  beforeAll(async () => {
    const binary = squidBinary();
    dir = mkdtempSync(join(tmpdir(), 'omsgw-sim-squid-'));
    chmodSync(dir, 0o755); // squid's own user must reach the folder below
    cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }] });
    await cloud.start();
    const sq = join(dir, 'squid');
    mkdirSync(sq);
    chmodSync(sq, 0o777); // squid drops privileges and writes its logs here
    port = await freePort();
    writeFileSync(
      join(sq, 'squid.conf'),
      [
        `http_port 127.0.0.1:${port}`,
        'acl localhost_src src 127.0.0.0/8',
        'acl SSL_ports port 443',
        'acl CONNECT method CONNECT',
        'http_access deny CONNECT !SSL_ports',
        'http_access allow localhost_src',
        'http_access deny all',
        `cache_peer 127.0.0.1 parent ${cloud.port} 0 no-query no-digest default`,
        'never_direct allow all',
        'cache deny all',
        'cache_mem 8 MB',
        'workers 1',
        `access_log stdio:${join(sq, 'access.log')}`,
        `cache_log ${join(sq, 'cache.log')}`,
        'cache_store_log none',
        `pid_filename ${join(sq, 'squid.pid')}`,
        `coredump_dir ${sq}`,
        'shutdown_lifetime 1 seconds',
        'dns_nameservers 127.0.0.1',
        '',
      ].join('\n'),
    );
    squid = spawn(binary, ['-N', '-f', join(sq, 'squid.conf')], { cwd: sq, stdio: 'ignore' });
    await waitListening(port, 15_000).catch((err: Error) => {
      const log = existsSync(join(sq, 'cache.log')) ? readFileSync(join(sq, 'cache.log'), 'utf8').slice(-2000) : '(no cache.log)';
      throw new Error(`${err.message}; squid cache.log:\n${log}`);
    });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    if (squid && squid.exitCode === null) {
      const exited = new Promise((r) => squid.once('exit', r));
      squid.kill('SIGTERM');
      const t = setTimeout(() => squid.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await cloud?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each(['windows', 'linux'] as const)('a %s agent onboards and delivers; squid logged the tunnels', async (os) => {
    const a = createAgent({ os, workspaceId: WS, workspaceKey: KEY, proxy: `http://127.0.0.1:${port}`, caPem: cloud.caCertPem, seed: `squid-${os}`, keyPool, bindAddress: '127.0.7.1' });
    agents.push(a);
    const r = await a.runOnce();
    expect(r.delivered).toBeGreaterThan(0);
    const ingested = cloud.ledger.summary({ agentId: a.agentId }).flatMap((e) => e.recordIds);
    expect(ingested.sort()).toEqual(a.ledger.acknowledgedIds().sort());
    const want = new RegExp(`CONNECT ${WS}\\.oms`);
    let log = '';
    for (let i = 0; i < 40 && !want.test(log); i++) {
      if (i) await new Promise((r) => setTimeout(r, 50)); // squid may write its log a moment later
      log = existsSync(join(dir, 'squid', 'access.log')) ? readFileSync(join(dir, 'squid', 'access.log'), 'utf8') : '';
    }
    expect(log).toMatch(new RegExp(`127\\.0\\.7\\.1 \\S+/200 \\d+ CONNECT ${WS}\\.oms\\.opinsights\\.azure\\.com:443`));
    if (os === 'linux') expect(log).toContain('CONNECT scus-agentservice-prod-1.azure-automation.net:443');
  });
});
