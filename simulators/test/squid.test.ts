/**
 * The agents through squid, a CONNECT proxy that is not ours: squid forwards every CONNECT to the
 * fake cloud as its parent proxy (no DNS needed). squid is a Debian package that .ci/run installs: when
 * it is missing these tests fail, saying so.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCloud, type FakeCloud } from '../../fake-oms-endpoints/index.js';
import { createAgent, KeyPool, type SimulatedAgent } from '../agent-core/index.js';
import { startSquid, type SquidProcess } from '../../conformance/squid-process.js';

const WS = '1d2c3b4a-5968-4776-8594-a3b2c1d0e9f8';
const KEY = Buffer.from('squid test workspace key').toString('base64');

describe('through squid', () => {
  let dir: string;
  let cloud: FakeCloud;
  let squid: SquidProcess;
  const agents: SimulatedAgent[] = [];
  const keyPool = new KeyPool({ size: 1 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'omsgw-sim-squid-'));
    cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [{ id: WS, key: KEY }] });
    await cloud.start();
    // The fake cloud answers CONNECT itself, so it is squid's parent: no DNS needed.
    squid = await startSquid({ parentPort: cloud.port, allowlist: ['.opinsights.azure.com', '.azure-automation.net'] });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await squid?.stop();
    await cloud?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each(['windows', 'linux'] as const)('a %s agent onboards and delivers; squid logged the tunnels', async (os) => {
    const a = createAgent({ os, workspaceId: WS, workspaceKey: KEY, proxy: `http://127.0.0.1:${squid.port}`, caPem: cloud.caCertPem, seed: `squid-${os}`, keyPool, bindAddress: '127.0.7.1' });
    agents.push(a);
    const r = await a.runOnce();
    expect(r.delivered).toBeGreaterThan(0);
    const ingested = cloud.ledger.summary({ agentId: a.agentId }).flatMap((e) => e.recordIds);
    expect(ingested.sort()).toEqual(a.ledger.acknowledgedIds().sort());
    const want = new RegExp(`CONNECT ${WS}\\.oms`);
    let log = '';
    for (let i = 0; i < 40 && !want.test(log); i++) {
      if (i) await new Promise((r) => setTimeout(r, 50)); // squid may write its log a moment later
      log = existsSync(squid.accessLog) ? readFileSync(squid.accessLog, 'utf8') : '';
    }
    expect(log).toMatch(new RegExp(`127\\.0\\.7\\.1 \\S+/200 \\d+ CONNECT ${WS}\\.oms\\.opinsights\\.azure\\.com:443`));
    if (os === 'linux') expect(log).toContain('CONNECT scus-agentservice-prod-1.azure-automation.net:443');
  });
});
