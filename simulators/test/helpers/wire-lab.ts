import type { SimulatedAgent } from '../../agent-core/index.js';
import { createTestPki, type TestPki } from './pki.js';
import { TinyCloud, TinyConnectProxy } from './servers.js';

export interface WireLab {
  pki: TestPki;
  cloud: TinyCloud;
  proxy: TinyConnectProxy;
  /** Agents a test creates; closed after each test. */
  agents: SimulatedAgent[];
}

/**
 * Registers jest hooks for a tiny cloud behind a tiny CONNECT proxy: started once per file, reset
 * after each test (agents closed, what was seen cleared, refusals and replies back to normal).
 * The fields are filled in by beforeAll.
 */
export function useWireLab(): WireLab {
  const lab = { agents: [] as SimulatedAgent[] } as WireLab;
  beforeAll(async () => {
    lab.pki = await createTestPki(['*.oms.opinsights.azure.com', '*.ods.opinsights.azure.com', 'scus-agentservice-prod-1.azure-automation.net']);
    lab.cloud = new TinyCloud(lab.pki);
    await lab.cloud.start();
    lab.proxy = new TinyConnectProxy(() => lab.cloud.port);
    await lab.proxy.start();
  });
  afterEach(async () => {
    await Promise.all(lab.agents.splice(0).map((a) => a.close()));
    lab.cloud.seen.length = 0;
    lab.proxy.seen.length = 0;
    lab.proxy.refuse = () => undefined;
    lab.cloud.reply = () => undefined;
  });
  afterAll(async () => {
    await lab.proxy?.close();
    await lab.cloud?.close();
  });
  return lab;
}
