import type { ManualClock } from '../../../lib/clock.js';
import { createAgent, KeyPool, type SimulatedAgent } from '../../agent-core/index.js';
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

/** What every agent a test makes in the lab shares: its workspace, key and seed. */
export interface LabAgentBase {
  workspaceId: string;
  workspaceKey: string;
  seed: number;
}

/** Makes agents that reach the lab's cloud through its proxy (closed after each test), on the test's clock. */
export function labAgentMaker(lab: WireLab, base: LabAgentBase): (os: 'linux' | 'windows', clock: ManualClock, extra?: object) => SimulatedAgent {
  const keyPool = new KeyPool({ size: 1 });
  return (os, clock, extra = {}) => {
    const a = createAgent({ os, ...base, proxy: `127.0.0.1:${lab.proxy.port}`, caPem: lab.pki.caPem, keyPool, clock, ...extra });
    lab.agents.push(a);
    return a;
  };
}

/** The data posts (PostJsonDataItems) the lab's cloud has seen. */
export function labOdsPosts(lab: WireLab): TinyCloud['seen'] {
  return lab.cloud.seen.filter((s) => s.path === '/OperationalData.svc/PostJsonDataItems');
}

/** Waits (real time, at most 5 s) for socket work the manual clock started: polls `pred`. */
export async function untilSocketWork(pred: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
