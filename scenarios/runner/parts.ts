import type { RecordState } from '../../simulators/agent-core/ledger.js';
import { createFakeCloud, validateFaultSpec } from '../../fake-oms-endpoints/index.js';
import { createAgent, parseProxyString, sharedKeyPool } from '../../simulators/agent-core/index.js';
import { createAmaAgent } from '../../simulators/ama-agent/index.js';
import { initGatewayDir } from '../../gateway/init.js';
import { spawnGateway } from '../../gateway/process.js';
import { startHaproxy } from '../../reliability/haproxy.js';
import type { AgentHandle, AgentSpec, CloudHandle, GatewayProcessHandle, PartsFactory } from './lab.js';

/**
 * The real parts: the gateway as a child process (`omsgw gateway ...`), the fake cloud and the
 * agents in this process. Everything talks over loopback sockets.
 */
export const realParts: PartsFactory = {
  // What `omsgw gateway init --workspace <id> --dir <dir>` does, without starting another node process.
  async initGateway(dir, workspaceId) {
    initGatewayDir({ workspaceId, dir });
  },

  spawnGateway: (args): Promise<GatewayProcessHandle> => spawnGateway(args),

  async startCloud({ stateDir, workspaces, clock, port }) {
    const cloud = createFakeCloud({ stateDir, workspaces, clock, port });
    await cloud.start();
    const handle: CloudHandle = {
      caCertPem: cloud.caCertPem,
      proxyUrl: cloud.proxyUrl,
      hostMapEntries: () => cloud.hostMapEntries(),
      ingested: () =>
        cloud.ledger.summary().map((e) => ({ agentId: e.agentId, dataType: e.dataType, records: e.records, recordIds: e.recordIds, duplicates: e.duplicateRecordIds })),
      setFault: (spec) => cloud.faults.add(validateFaultSpec(spec)).id,
      clearFaults: (id) => {
        if (id === undefined) cloud.faults.clear();
        else if (!cloud.faults.remove(id)) throw new Error(`no cloud fault with id ${id}; active: ${cloud.faults.list().map((f) => f.id).join(', ') || 'none'}`);
      },
      close: () => cloud.close(),
    };
    return handle;
  },

  createAgent(spec) {
    if (spec.os === 'ama') return amaHandle(spec);
    const agent = createAgent({
      os: spec.os,
      workspaceId: spec.workspace.id,
      workspaceKey: spec.workspace.key,
      proxy: spec.proxy,
      caPem: spec.caPem,
      seed: spec.seed,
      bindAddress: spec.bindAddress,
      clock: spec.clock,
      tls: spec.tls,
      behavior: spec.behavior,
      retry: spec.retry,
      // RSA key generation is the slow part of a new agent: share a few keys process-wide
      // (each agent still has its own certificate, subject and thumbprint).
      keyPool: sharedKeyPool(8),
      index: spec.index,
    });
    const handle: AgentHandle = {
      id: agent.agentId,
      onboard: () => agent.onboard(),
      runOnce: () => agent.runOnce(),
      start: () => agent.start(),
      close: () => agent.close(),
      status: () => agent.status(),
      ...ledgerViews(agent.ledger),
      behavior: agent.behavior.name,
      settled: () => agent.settled(),
    };
    return handle;
  },

  // haproxy in TCP mode with a TCP health check (the reliability suite's harness); fails with the
  // install command when haproxy is missing.
  startBalancer: async (opts) => {
    const lb = await startHaproxy(opts);
    return {
      host: lb.host,
      port: lb.port,
      pid: lb.pid,
      backendStates: () => lb.backendStates(),
      waitForBackend: (name, state, timeoutMs) => lb.waitForBackend(name, state, timeoutMs),
      stop: () => lb.stop(),
    };
  },
};

/**
 * An Azure Monitor Agent for the lab: the scenario's proxy string becomes its proxy settings (mode
 * application, auth "true" when the string carries credentials); its IMDS is its own, on loopback.
 */
function amaHandle(spec: AgentSpec): AgentHandle {
  if (spec.tls?.servername) throw new Error('tls.servername is not supported for ama agents (the Azure Monitor Agent sends the real host name)');
  if (spec.behavior || spec.retry) throw new Error('behavior and retry are for linux and windows agents (omsagent, mma, ideal); the Azure Monitor Agent has its own retry model');
  const p = parseProxyString(spec.proxy);
  const agent = createAmaAgent({
    workspaceId: spec.workspace.id,
    proxy: p.username !== undefined
      ? { mode: 'application', address: `http://${p.host}:${p.port}`, auth: 'true', username: decodeURIComponent(p.username), password: decodeURIComponent(p.password ?? '') }
      : { mode: 'application', address: `http://${p.host}:${p.port}`, auth: 'false' },
    caPem: spec.caPem,
    seed: spec.seed,
    index: spec.index,
    bindAddress: spec.bindAddress,
    clock: spec.clock,
    tls: spec.tls && { minVersion: spec.tls.minVersion, maxVersion: spec.tls.maxVersion },
  });
  return {
    id: agent.agentId,
    onboard: () => agent.configure(),
    runOnce: () => agent.runOnce(),
    start: () => agent.start(),
    close: () => agent.close(),
    status: () => agent.status(),
    ...ledgerViews(agent.ledger),
    behavior: 'ama',
  };
}

/** What a scenario reads of an agent's ledger, the same for every kind of agent. */
function ledgerViews(ledger: { records(): Iterable<{ id: string; state: RecordState; attempts: number; dropReason?: string; createdAt: number }> }): Pick<AgentHandle, 'createdRecordIds' | 'records'> {
  return {
    createdRecordIds: () => [...ledger.records()].map((r) => r.id),
    records: () => [...ledger.records()].map((r) => ({ id: r.id, state: r.state, attempts: r.attempts, dropReason: r.dropReason, createdAt: r.createdAt })),
  };
}
