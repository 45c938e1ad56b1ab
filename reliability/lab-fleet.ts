import type { Clock } from '../lib/clock.js';
import { createFleet, type Fleet } from '../simulators/agent-core/index.js';

/** What differs between the reliability runs' fleets: their size, workspace, proxy, seed, addresses and timeouts. */
export interface LabFleetSetup {
  count: number;
  workspace: { id: string; key: string };
  /** The loopback port the agents use as their proxy (a gateway, or a load balancer in front of several). */
  proxyPort: number;
  caPem: string;
  seed: number;
  clock: Clock;
  bindRange: string;
  collectIntervalMs: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** The fleet the fault and failover runs drive: one Windows agent per Linux agent, the ideal behaviour. */
export function createLabFleet(o: LabFleetSetup): Fleet {
  return createFleet({
    count: o.count,
    mix: { windows: 1, linux: 1 },
    workspaceId: o.workspace.id,
    workspaceKey: o.workspace.key,
    proxy: `http://127.0.0.1:${o.proxyPort}`,
    caPem: o.caPem,
    seed: o.seed,
    clock: o.clock,
    bindRange: o.bindRange,
    // The ideal agent (Retry-After honoured, no retry limit): these runs test the gateway and the
    // nothing-lost accounting; what the real agents' retry limits lose is scenario linux-outage-data-loss.
    behavior: 'ideal',
    schedule: { collectIntervalMs: o.collectIntervalMs },
    connectTimeoutMs: o.connectTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
  });
}
