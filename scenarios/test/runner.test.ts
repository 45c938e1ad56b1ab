import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { GatewayStartError } from '../../gateway/process.js';
import { cliPath } from '../../lib/paths.js';
import { parseScenario } from '../runner/load.js';
import { realParts } from '../runner/parts.js';
import { runScenario } from '../runner/runner.js';
import { startHaproxy } from '../../reliability/haproxy.js';

const WS = '7a3c2f10-4b1e-4d7a-9c55-2f0e8b6d1a42';
const head = (name: string) => `name: ${name}\ntitle: ${name}\nworkspaces:\n  - id: ${WS}\nsteps:\n`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runner', () => {
  beforeAll(() => {
    if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run \`npm run build\` first`);
  });

  it('a failed expectation lets the scenario go on; a failed action stops it and the rest is not run', async () => {
    const yaml = `${head('stops')}  - do: cloud.start
  - do: gateway.start
    allowlist: default
  - do: expect.counters
    counters: { rejectionCount: 5 }
  - do: probe.connect
    target: ${WS}.oms.opinsights.azure.com:80
    expectStatus: 403
  - do: agents.wait
    onboarded: true
  - do: expect.counters
    counters: { rejectionCount: 1 }
`;
    // Validation refuses a selector no agents.start names; the runner's own check is the second line
    // of defence, reached here by naming the agents after validation.
    const loaded = parseScenario(yaml, 'stops.yaml');
    (loaded.def.steps[4] as { agents?: string }).agents = 'nobody';
    const r = await runScenario(loaded, { parts: realParts });
    expect(r.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'failed', 'passed', 'failed', 'not-run']);
    expect(r.passed).toBe(false);
    expect(r.steps[2]).toMatchObject({ expected: ['rejectionCount = 5'], actual: ['rejectionCount = 0'] });
    expect(r.steps[4].summary).toContain('no agents match "nobody"');
    expect(r.steps.map((s) => s.line)).toEqual([6, 7, 9, 11, 14, 16]);
    expect(r.teardown).toEqual([]);
    // The gateway child process was stopped, and its last words (102) read from its event log.
    const pid = Number(/pid (\d+)/.exec(r.steps[1].summary ?? '')?.[1]);
    expect(isAlive(pid)).toBe(false);
    expect(r.events.map((e) => e.id)).toEqual([101, 103, 105, 102]);
    expect(r.events[1].client).toBe('probe-1');
  });

  it('expect.ledger ingestedOnceOrQueued accepts records still queued with a reason, where createdEqualsIngested does not', async () => {
    const yaml = `${head('queued')}  - do: cloud.start
  - do: gateway.start
    allowlist: default
  - do: agents.start
    os: windows
    seed: 3
  - do: agents.wait
    delivered: 1
    timeout: 15s
  - do: gateway.kill
  - do: clock.advance
    by: 2m
  - do: expect.agents
    queued: { min: 1 }
  - do: expect.ledger
    ingestedOnceOrQueued: true
  - do: expect.ledger
    createdEqualsIngested: true
`;
    const r = await runScenario(parseScenario(yaml, 'queued.yaml'), { parts: realParts });
    expect(r.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed', 'passed', 'passed', 'passed', 'failed']);
    const summary = r.steps[7].summary ?? '';
    const [, created, ingested, queued] = /created (\d+), ingested (\d+), queued with a reason (\d+), duplicated 0, unaccounted 0/.exec(summary) ?? [];
    expect(Number(queued)).toBeGreaterThan(0);
    expect(Number(created)).toBe(Number(ingested) + Number(queued));
    expect(summary).toMatch(/windows-1: \d+ queued \(.+\)/); // the agent's reason, e.g. its connection error
    expect(r.steps[8].details).toContain('records lost or duplicated');
    expect(r.gateways).toMatchObject([{ name: 'gateway', ended: 'killed', generations: 1 }]);
    expect(r.teardown).toEqual([]);
  });

  it('expect.events naming a client nobody has fails instead of passing an absence over no events', async () => {
    const yaml = `${head('typo')}  - do: cloud.start
  - do: gateway.start
    allowlist: default
  - do: probe.connect
    as: port-80
    target: ${WS}.oms.opinsights.azure.com:80
    expectStatus: 403
  - do: expect.events
    client: port80
    absent: [105]
  - do: expect.events
    client: port-80
    absent: [105]
`;
    // Found before running (issue 17) ...
    expect(() => parseScenario(yaml, 'typo.yaml')).toThrow('typo.yaml:14:13: steps[3].client: no agent, agent group or probe is called "port80"; this scenario has: port-80');
    // ... and, should a name get past validation, by the runner too.
    const loaded = parseScenario(yaml.replace('client: port80', 'client: port-80'), 'typo.yaml');
    (loaded.def.steps[3] as { client?: string }).client = 'port80';
    const r = await runScenario(loaded, { parts: realParts });
    expect(r.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'passed', 'failed', 'failed']);
    expect(r.steps[3].summary).toBe('no agent, agent group or probe is called "port80"; known so far: port-80');
    // The right name sees the probe's 105, so the absence fails for the right reason.
    expect(r.steps[4].details).toEqual(['event 105 (target forbidden) present']);
  });

  it('gateway.start expectFailure passes only for a refusal (exit 2), not for a crash or a start that timed out', async () => {
    const yaml = `${head('refusal')}  - do: cloud.start
  - do: gateway.start
    expectFailure: true
`;
    const outcome = async (code: number | null) => {
      const parts = { ...realParts, spawnGateway: () => Promise.reject(new GatewayStartError(`gateway exited before it was ready (code ${code}, signal null)\nsome reason`, code, '', '')) };
      const r = await runScenario(parseScenario(yaml, 'refusal.yaml'), { parts });
      expect(r.teardown).toEqual([]);
      return r.steps[1];
    };
    expect(await outcome(2)).toMatchObject({ status: 'passed', summary: 'the gateway refused to start, as expected: some reason' });
    expect(await outcome(1)).toMatchObject({ status: 'failed', summary: 'the gateway did not start, but not by refusing its configuration (exit status 2): exit status 1: some reason' });
    expect(await outcome(null)).toMatchObject({ status: 'failed', summary: expect.stringContaining('exit status null') });
  });

  it('once the scenario timeout is used up, no further step is started (an overrunning step may still be running)', async () => {
    const yaml = `name: out-of-time\ntitle: out of time\nworkspaces:\n  - id: ${WS}\ntimeout: 20s\nsteps:
  - do: cloud.start
  - do: gateway.start
  - do: expect.events
    sequence: [106]
    within: 21s
  - do: gateway.restart
  - do: expect.counters
    counters: { rejectionCount: 0 }
`;
    const r = await runScenario(parseScenario(yaml, 'out-of-time.yaml'), { parts: realParts });
    expect(r.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'failed', 'failed', 'not-run']);
    expect(r.steps[2].summary).toMatch(/^did not finish within the scenario's remaining \d+ms$/);
    expect(r.steps[3].summary).toBe("not started: the scenario's 20s timeout is used up");
    // The restart never ran: one gateway process only.
    expect(r.gateways).toMatchObject([{ name: 'gateway', generations: 1, ended: 'stopped' }]);
    expect(r.passed).toBe(false);
    // 20 s, not less: on a busy machine starting the cloud and a gateway took more than 6 s, and the
    // first steps, not the overrunning one, ran out of time.
  }, 45_000);

  it('agents whose bind ranges overlap are refused: one source address would be two clients to the harness and one to the gateway', async () => {
    const yaml = `${head('overlap')}  - do: cloud.start
  - do: gateway.start
  - do: agents.start
    os: windows
    count: 2
    bindRange: 127.0.77.0/24
    run: once
  - do: agents.start
    os: linux
    bindRange: 127.0.77.0/24
    run: once
`;
    const r = await runScenario(parseScenario(yaml, 'overlap.yaml'), { parts: realParts });
    expect(r.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'passed', 'failed']);
    expect(r.steps[3].summary).toBe('source address 127.0.77.1 is already used by windows-1; give linux-1 a bindRange that does not overlap');
    expect(r.teardown).toEqual([]);
  });

  it('balancer.start fails with the install command when haproxy is missing', async () => {
    const yaml = `${head('no-haproxy')}  - do: cloud.start
  - do: gateway.start
    name: gw1
  - do: balancer.start
    backends: [gw1]
  - do: agents.start
    os: linux
    via: balancer
`;
    const parts = { ...realParts, startBalancer: (o: Parameters<typeof realParts.startBalancer>[0]) => startHaproxy({ ...o, binary: join(tmpdir(), 'no-such-dir', 'haproxy') }) };
    const r = await runScenario(parseScenario(yaml, 'no-haproxy.yaml'), { parts });
    expect(r.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'failed', 'not-run']);
    expect(r.steps[2].summary).toContain('apt-get install -y haproxy');
    expect(r.teardown).toEqual([]);
  });

  describe('against an external CONNECT proxy', () => {
    let external: Gateway;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'omsgw-ext-'));
      writeFileSync(join(dir, 'allowedlist_server.txt'), `${WS}.oms.opinsights.azure.com\n`);
      external = createGateway({ listenPort: 0, adminPort: null, allowlistFile: join(dir, 'allowedlist_server.txt') });
      await external.start();
    });
    afterAll(async () => {
      await external.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('skips actions that need omsgw\'s own gateway, runs the rest; an expectation it cannot check is not verified, and a scenario resting only on those is NOT VERIFIED, not passed', async () => {
      const yaml = `${head('external')}  - do: cloud.start
  - do: gateway.start
  - do: probe.connect
    target: ${WS}.oms.opinsights.azure.com:80
    expectStatus: 403
  - do: probe.http
    url: http://${WS}.oms.opinsights.azure.com/
    expectStatus: 405
  - do: allowlist.api-add
    host: example.org
  - do: expect.events
    sequence: [103, 105]
`;
      const { port } = external.proxyAddress;
      const r = await runScenario(parseScenario(yaml, 'external.yaml'), { parts: realParts, external: { host: '127.0.0.1', port } });
      expect(r.steps.map((s) => s.status)).toEqual(['passed', 'skipped', 'passed', 'passed', 'skipped', 'not-verified']);
      expect(r.steps[1].summary).toBe(`controls omsgw's own gateway process; 127.0.0.1:${port} is an external proxy`);
      expect(r.steps[5].summary).toBe(`events come from omsgw's management API; 127.0.0.1:${port} has none (give --gateway-log squid:/path/access.log for outcome-level events)`);
      expect(r.verdict).toBe('not-verified');
      expect(r.passed).toBe(false);
      expect(r.external).toBe(`127.0.0.1:${port}`);
      // The proxy really was exercised.
      expect(external.events.list({}).map((e) => e.id)).toEqual(expect.arrayContaining([103, 105, 104]));
    });
  });
});

function omsgw(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('omsgw scenario run: exit codes and reports', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'omsgw-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const probeSteps = `  - do: cloud.start
  - do: gateway.start
  - do: probe.http
    url: http://${WS}.oms.opinsights.azure.com/
    expectStatus: 405
`;

  it('exits 2 with file, line and field for an invalid file, before running anything', async () => {
    const bad = file('bad.yaml', `${head('bad')}  - do: cloud.start\n  - do: agents.start\n    os: solaris\n`);
    const r = await omsgw(['scenario', 'run', 'non-connect-104', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:8:9: steps[1].os: must be one of: "linux", "windows", "ama"`);
    expect(r.stdout).toBe('');
  });

  it('exits 2 for an unknown scenario name, an unknown reporter or a non-loopback --gateway', async () => {
    const unknown = await omsgw(['scenario', 'run', 'no-such-scenario']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown scenario "no-such-scenario"; known: ama-handler-hosts-missing, bad-config-401');
    const remote = await omsgw(['scenario', 'run', 'non-connect-104', '--gateway', '10.1.2.3:3128']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('--gateway must be a loopback address');
    const reporter = await omsgw(['scenario', 'run', 'non-connect-104', '--reporter', 'xml']);
    expect(reporter.code).toBe(2);
    expect(reporter.stderr).toContain('--reporter must be one of pretty, json, junit, html, got "xml"');
  });

  it('exits 2 before running anything when --out is a file', async () => {
    const notADir = file('not-a-dir.txt', 'x');
    const r = await omsgw(['scenario', 'run', 'non-connect-104', '--out', notADir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out must be a folder, but ${notADir} is a file`);
    expect(r.stdout).toBe('');
  });

  it('exits 0 when all pass and writes JUnit XML with --out', async () => {
    const ok = file('ok.yaml', `${head('ok')}${probeSteps}`);
    const out = join(dir, 'reports');
    const r = await omsgw(['scenario', 'run', ok, '--reporter', 'junit', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASSED ok');
    const xml = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(xml).toContain('<testsuite name="ok" tests="3" failures="0"');
  });

  it('exits 1 when a scenario fails; the JSON report says which', async () => {
    const failing = file('failing.yaml', `${head('failing')}${probeSteps}  - do: expect.counters\n    counters: { rejectionCount: 3 }\n`);
    const r = await omsgw(['scenario', 'run', failing, '--reporter', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.passed).toBe(false);
    expect(report.scenarios[0]).toMatchObject({ name: 'failing', passed: false });
    expect(report.scenarios[0].events.map((e: { id: number }) => e.id)).toEqual([101, 104, 102]);
  });
});

describe('omsgw lab', () => {
  it('reproduces the Linux allowlist story, explains it and exits 0', async () => {
    const r = await omsgw(['lab']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/103 CONNECT received → 105 target forbidden\s+linux-1\s+→ scus-agentservice-prod-1\.azure-automation\.net:443/);
    expect(out).toMatch(/103 CONNECT received → 107 TLS session verified\s+linux-1\s+→ scus-agentservice-prod-1\.azure-automation\.net:443.*\[gw 2\]/);
    expect(out).toMatch(/with the default allowlist: \d+ connections?, (each )?103 \(CONNECT received\) → 105 \(target forbidden\)/);
    expect(out).toMatch(/after adding the host to allowedlist_server\.txt and restarting: \d+ connections?, (each )?103 \(CONNECT received\) → 107 \(TLS session verified\)/);
    const loss = /records created by the agents: (\d+); ingested by the cloud: (\d+); missing: 0; duplicated: 0/.exec(out);
    expect(loss).not.toBeNull();
    expect(Number(loss![1])).toBeGreaterThan(0);
    expect(loss![2]).toBe(loss![1]);
    expect(out).toContain('The 2016 Linux allowlist bug reproduced as expected');
    expect(out).not.toContain('\u001b['); // not a terminal: no colour
  });
});
