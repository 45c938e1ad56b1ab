import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { spawnGateway, type GatewayProcess } from '../../gateway/process.js';
import { freeLoopbackPort as freePort } from '../../harness/free-port.js';
import { startLab, startOmsgw, type Lab } from './support.js';

jest.setTimeout(90_000);

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The built CLI as a user runs it: exit code and output. A run that hangs is killed after `timeoutMs`
 * (code null), which fails every exit-code check: that, and the messages naming the suite's own
 * 5 s timeouts, are how these tests show nothing hangs (a tighter wall-clock bound measured the shared
 * machine: 31.8 s once under load average 19, for a route check that gave up after its 5 s).
 */
function omsgw(args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(packageRoot(), 'dist', 'cli', 'omsgw.js'), 'conformance', ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

async function ports(): Promise<string[]> {
  const [c, e, r] = [await freePort(), await freePort(), await freePort()];
  return ['--cloud-port', String(c), '--echo-port', String(e), '--relay-port', String(r)];
}

function expectInputError(r: CliRun, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('omsgw conformance: bad input exits 2 with a clear message and nothing hangs', () => {
  test('unknown case ids are named', async () => {
    const r = await omsgw(['--gateway', '127.0.0.1:3128', '--cases', '5.1,42.7,12.3']);
    expectInputError(r, /--cases: unknown case ids 42\.7, 12\.3 \(12\.<n> checks run with their section/);
  });

  test('bad flags: a non-loopback gateway, a bad policy, equal ports', async () => {
    expectInputError(await omsgw(['--gateway', '10.0.0.1:3128']), /--gateway must be a loopback address/);
    expectInputError(await omsgw(['--gateway', '127.0.0.1:3128', '--tls-policy', 'tls13']), /--tls-policy must be current .* or preview-2016/);
    expectInputError(await omsgw(['--gateway', '127.0.0.1:3128', '--echo-port', '9555']), /--cloud-port, --echo-port and --relay-port must differ/);
    expectInputError(await omsgw(['--gateway', '127.0.0.1:3128', '--admin', 'https://127.0.0.1:8081']), /--admin must be an http:\/\/ URL, got "https:\/\/127\.0\.0\.1:8081"/);
  });

  test('an unreachable gateway', async () => {
    const closed = await freePort();
    const r = await omsgw(['--gateway', `127.0.0.1:${closed}`, ...(await ports())]);
    expectInputError(r, new RegExp(`cannot reach the gateway under test at 127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`));
  });

  describe('against omsgw', () => {
    let lab: Lab | undefined;
    let gw: GatewayProcess | undefined;
    let server: http.Server | undefined;
    let silent: net.Server | undefined;
    afterEach(async () => {
      await gw?.stop();
      gw = undefined;
      await lab?.close();
      lab = undefined;
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      server = undefined;
      silent?.close();
      silent = undefined;
    });

    test('a gateway whose route does not reach the suite\'s upstreams (no host map, no relay): route check fails, exit 2', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'omsgw-conf-cli-'));
      try {
        gw = await spawnGateway(['--allow-host', 'allowed.conformance.test', '-q']);
        const r = await omsgw(['--gateway', `127.0.0.1:${gw.proxyPort}`, '--state-dir', dir, ...(await ports())]);
        expectInputError(r, /route check: CONNECT allowed\.conformance\.test:443 through 127\.0\.0\.1:\d+ answered HTTP\/1\.1 (403|502)/);
        // The route to configure was printed before the check.
        expect(r.stderr).toMatch(/The gateway under test needs this route/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a gateway whose route reaches the echo upstream but not the fake cloud: exit 2 naming the fake cloud, whether the OMS host is unroutable or routed elsewhere', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'omsgw-conf-cli-'));
      try {
        const p = await ports();
        const echo = `127.0.0.1:${p[3]}`;
        const oms = '00000000-0000-4000-8000-00000000c0f0.oms.opinsights.azure.com';
        const allow = ['--allow-host', 'allowed.conformance.test', '--allow-host', oms];
        // The Azure host map forgotten: the gateway cannot resolve the workspace host.
        gw = await spawnGateway([...allow, '--host-map', `*.conformance.test=${echo}`, '-q']);
        const unroutable = await omsgw(['--gateway', `127.0.0.1:${gw.proxyPort}`, '--state-dir', dir, ...p]);
        expectInputError(unroutable, new RegExp(`route check: CONNECT ${oms.replace(/\./g, '\\.')}:443 through 127\\.0\\.0\\.1:\\d+ answered HTTP/1\\.1 5\\d\\d [^;]*, so the fake cloud is not reachable`));
        await gw.stop();
        // The Azure names sent to the echo upstream: a TLS server answers, but no HTTP comes back.
        gw = await spawnGateway([...allow, '--host-map', `*.conformance.test=${echo}`, '--host-map', `*.opinsights.azure.com=${echo}`, '-q']);
        const elsewhere = await omsgw(['--gateway', `127.0.0.1:${gw.proxyPort}`, '--state-dir', dir, ...p]);
        expectInputError(elsewhere, new RegExp(`route check: no HTTP answer from the fake cloud for ${oms.replace(/\./g, '\\.')}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('an --admin where nothing listens, and one that accepts and never answers: exit 2 naming --admin, within seconds', async () => {
      silent = net.createServer(() => undefined);
      await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
      const gateway = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const closed = await freePort();
      expectInputError(await omsgw(['--gateway', gateway, '--admin', `http://127.0.0.1:${closed}`, ...(await ports())]), new RegExp(`--admin http://127\\.0\\.0\\.1:${closed}: no answer \\(connect ECONNREFUSED`));
      const mute = await omsgw(['--gateway', gateway, '--admin', `http://${gateway}`, ...(await ports())]);
      expectInputError(mute, new RegExp(`--admin http://${gateway.replace(/\./g, '\\.')}: no answer \\(.*time`, 'i'));
    });

    test('a gateway that accepts and never answers: the route check gives up, exit 2, within seconds', async () => {
      silent = net.createServer(() => undefined);
      await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
      const r = await omsgw(['--gateway', `127.0.0.1:${(silent.address() as net.AddressInfo).port}`, ...(await ports())]);
      expectInputError(r, /route check: CONNECT allowed\.conformance\.test:443 .* answered \(no answer within 5000 ms\)/);
    });

    test('an --admin that is not an omsgw management API, and the same run passing with the real one (junit report written, exit 0)', async () => {
      const p = await ports();
      lab = await startLab();
      // The CLI starts its own upstreams on the fixed ports; this omsgw is routed to them.
      const portsOf = { cloudPort: Number(p[1]), echoPort: Number(p[3]), relayPort: Number(p[5]) };
      await lab.upstreams.close();
      lab.upstreams.ports = portsOf;
      gw = await startOmsgw(lab, { route: 'host-map', tlsPolicy: 'current', timeoutsMs: 1500 });
      server = http.createServer((_q, res) => res.writeHead(404).end('not here'));
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const wrong = await omsgw(['--gateway', `127.0.0.1:${gw.proxyPort}`, '--admin', `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, ...p]);
      expectInputError(wrong, /--admin http:\/\/127\.0\.0\.1:\d+ is not an omsgw management API: GET \/healthz answered 404/);

      const out = join(lab.dir, 'reports');
      const ok = await omsgw(['--gateway', `127.0.0.1:${gw.proxyPort}`, '--admin', gw.adminUrl!, '--cases', '1,5', '--reporter', 'junit', '--out', out, '--head-timeout-ms', '1500', ...p]);
      expect(ok.stderr).toMatch(/omsgw \(host map\)/);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/15 passed, 0 failed, 0 not observable/);
      const xml = readFileSync(join(out, 'conformance-junit.xml'), 'utf8');
      expect(xml).toMatch(/<testsuite name="5\. Server allowlist" tests="8" failures="0" skipped="0">/);

      // A case the gateway fails makes the exit status 1 (the suite assumes the 2016 TLS policy; this gateway allows 1.3).
      const failing = await omsgw(['--gateway', `127.0.0.1:${gw.proxyPort}`, '--cases', '9.2', '--tls-policy', 'preview-2016', ...p]);
      expect(failing.code).toBe(1);
      expect(failing.stdout).toMatch(/✖ 9\.2 .*\n\s+expected: the tunnel cut during the handshake/);
      expect(existsSync(out)).toBe(true);
    });
  });
});

describe('docs/conformance.md', () => {
  test('the specification table lists every case of the catalogue with its behaviour', async () => {
    const { CASES } = await import('../catalogue/index.js');
    const doc = readFileSync(join(packageRoot(), 'docs', 'conformance.md'), 'utf8');
    const missing = CASES.filter((c) => !doc.includes(`| ${c.id} | ${c.behaviour.replace(/\|/g, '\\|')} | `)).map((c) => c.id);
    expect(missing).toEqual([]);
  });
});
