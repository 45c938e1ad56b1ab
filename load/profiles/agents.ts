import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../lib/clock.js';
import { createFleet, type Fleet } from '../../simulators/agent-core/index.js';
import { AmaFleet } from '../../simulators/ama-agent/fleet.js';
import { splitAgentMix } from '../../simulators/ama-agent/mix.js';
import { accountDelivery } from '../../lib/records/index.js';
import { checkRecords, type RecordsCheck } from '../accuracy.js';
import type { LoadOptions } from '../options.js';
import type { ProbePacer } from '../probes.js';
import type { LoadReport } from '../report/types.js';
import type { LoadSampler } from '../sampler.js';
import type { LoadTargets } from '../targets.js';
import { eventLoopCpuMs, judgeCpu, ownCpuMs, processCpuMs } from '../cpu.js';
import { agentBindRange, shardSeed } from '../shard/spec.js';
import { isLoopbackHost } from '../../harness/driver/loopback.js';

/** Runs `fn` over items with at most `limit` in flight. */
async function limited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((r) => clock.setTimeout(r, Math.max(0, ms)));
}

export interface AgentsOutcome {
  records: RecordsCheck;
  agents: NonNullable<LoadReport['agents']>;
  /** Closes the fleet (kept open until the final quiescent point so its sockets are part of the truth). */
  close(): Promise<void>;
}

/** What the profile needs of any agent, legacy or AMA. */
interface LoadAgent {
  runOnce(): Promise<unknown>;
  flush(): Promise<unknown>;
  status(): { queued: number; onboarded: boolean; lastError?: string };
  bindAddress?: string;
  on(event: 'tunnel', fn: (info: { localAddress?: string }) => void): unknown;
  /** Host name and agent id as the cloud's ledger knows them. */
  name: string;
  agentId: string;
  records(): Iterable<import('../../simulators/agent-core/index.js').LedgerRecord>;
}

/**
 * The agents profile: a fleet of Windows, Linux and Azure Monitor agents uploading every interval (time-compressed
 * by --speed) until the deadline, a quiescent point after each round, then every queued record
 * flushed and all of them accounted for against the fake cloud's ledger.
 */
export async function runAgentsProfile(o: LoadOptions, t: LoadTargets, sampler: LoadSampler, probes: ProbePacer, beginLoad: () => number, clock: Clock): Promise<AgentsOutcome> {
  const cloud = t.cloud!;
  // ~1.2 KB per log row of JSON before deflate; rows per collection sized to kbPerUpload.
  const messageBytes = 1000;
  const logRows = Math.max(1, Math.round((o.kbPerUpload * 1024) / (messageBytes + 250)));
  const split = splitAgentMix(o.count, o.mix);
  const legacyCount = split.windows + split.linux;
  const proxy = `http://${t.proxy.host}:${t.proxy.port}`;
  // One bind range for the whole run: the legacy fleet takes its first addresses, the AMA agents the next.
  // A shard gets its own /16 on loopback; towards a gateway on another machine agents use the default source.
  const bindRange = agentBindRange(o.shard, isLoopbackHost(t.proxy.host));
  // A shard on a machine shared with other shards counts only its own sockets as open connections.
  if (o.shard && bindRange) sampler.ownSources = bindRange.split('.').slice(0, 2).map(Number) as [number, number];
  const seed = shardSeed(o.seed, o.shard);
  const fleet: Fleet | undefined = legacyCount > 0
    ? createFleet({
        count: legacyCount,
        mix: { windows: split.windows, linux: split.linux },
        bindRange,
        workspaceId: t.workspace.id,
        workspaceKey: t.workspace.key,
        proxy,
        caPem: cloud.caCertPem,
        seed,
        concurrency: Math.min(o.concurrency, 64),
        keyCacheDir: join(tmpdir(), 'omsgw-load-keys'),
        volume: { perfSamples: 10, logRows, messageBytes },
        batchSize: 100_000,
        behavior: o.behavior,
      })
    : undefined;
  const ama = split.ama > 0
    ? new AmaFleet({ count: split.ama, bindRange, firstAddress: legacyCount, firstIndex: legacyCount, workspaceId: t.workspace.id, proxy: { mode: 'application', address: proxy, auth: 'false' }, caPem: cloud.caCertPem, seed, volume: { syslogRows: logRows }, batchSize: 100_000 })
    : undefined;
  const agents: LoadAgent[] = [
    ...(fleet?.agents ?? []).map((a) => ({ runOnce: () => a.runOnce(), flush: () => a.flush(), status: () => a.status(), bindAddress: a.bindAddress, on: (e: 'tunnel', fn: (i: { localAddress?: string }) => void) => a.on(e, fn), name: a.identity.hostname, agentId: a.identity.agentGuid, records: () => a.ledger.records() })),
    ...(ama?.agents ?? []).map((a) => ({ runOnce: () => a.runOnce(), flush: () => a.flush(), status: () => a.status(), bindAddress: a.bindAddress, on: (e: 'tunnel', fn: (i: { localAddress?: string }) => void) => a.on(e, fn), name: a.machine.name, agentId: a.agentId, records: () => a.ledger.records() })),
  ];
  const closeAll = () => Promise.all([fleet?.close(), ama?.close()]).then(() => undefined);
  const onboarded = () => (fleet?.status().total.onboarded ?? 0) + (ama?.totals().configured ?? 0);
  try {
    fleet?.on('delivered', (_ev, agent) => void (agent.bindAddress && sampler.sources.add(agent.bindAddress)));
    for (const a of ama?.agents ?? []) a.on('delivered', () => void (a.bindAddress && sampler.sources.add(a.bindAddress)));
    for (const a of agents) a.on('tunnel', (info) => void (info.localAddress && sampler.sources.add(info.localAddress)));
    sampler.agentsUp = onboarded;
    await fleet?.prepare();
    // The legacy agents onboard before the load window (through the gateway: their tunnels count
    // like any other): the window measures the sizing profile's upload cycles, not a one-off
    // onboarding storm (2-3 extra handshakes per agent, a third of a 4-round run's handshakes at 100
    // agents). An agent that failed here onboards again at its first cycle, which reports the error.
    await fleet?.onboardAll();
    // Under --processes N every agent process starts its load window when all are ready.
    await o.coordinator?.ready();
    // Identities, keys and registrations are ready: the load window (and --duration) starts now.
    const deadline = beginLoad();
    let ticks = 0;
    let overrun = 0;
    const cpu0 = ownCpuMs();
    const loop0 = eventLoopCpuMs();
    const gw0 = t.gatewayPid ? processCpuMs(t.gatewayPid) : undefined;
    const wall0 = performance.now();
    const cycles0 = sampler.requests;
    const realTick = o.intervalMs / o.speed;
    const runStart = Date.now();
    // Under --processes N the parent decides for every process whether another round starts (so all run the same rounds).
    let more = true;
    while (o.coordinator ? more : Date.now() < deadline) {
      const tickStart = Date.now();
      const elapsed = tickStart - runStart;
      const active = o.rampUpMs > 0 ? Math.min(o.count, Math.max(1, Math.ceil((o.count * (elapsed + realTick)) / o.rampUpMs))) : o.count;
      const latenciesUs: number[] = [];
      await limited(agents.slice(0, active), o.concurrency, async (agent: LoadAgent) => {
        const t0 = process.hrtime.bigint();
        try {
          await agent.runOnce();
          const us = sampler.requestDone(t0);
          if (o.coordinator) latenciesUs.push(us);
        } catch (err) {
          const e = err as { kind?: string; details?: { proxyStatus?: number; statusCode?: number } };
          sampler.addError(`agent_${e.kind ?? 'error'}${e.details?.proxyStatus ? `_${e.details.proxyStatus}` : e.details?.statusCode ? `_${e.details.statusCode}` : ''}`);
        }
      });
      ticks++;
      const roundMs = Date.now() - tickStart;
      await probes.pause();
      await sampler.point(true, `tick ${ticks}`);
      if (o.coordinator) more = await o.coordinator.roundDone({ tick: ticks, roundMs, latenciesUs, sources: sampler.sources });
      probes.resume();
      const left = tickStart + realTick - Date.now();
      if (left < 0) overrun++;
      // The last round waits out the rest of --duration instead of ending early.
      else await sleep(clock, Math.min(left, deadline - Date.now()));
    }
    const gw1 = t.gatewayPid ? processCpuMs(t.gatewayPid) : undefined;
    const loop1 = eventLoopCpuMs();
    const cpu = judgeCpu({
      wallMs: performance.now() - wall0,
      simulatorCpuMs: ownCpuMs() - cpu0,
      eventLoopCpuMs: loop0 !== undefined && loop1 !== undefined ? loop1 - loop0 : undefined,
      cycles: sampler.requests - cycles0,
      gatewayCpuMs: gw0 !== undefined && gw1 !== undefined ? gw1 - gw0 : undefined,
      overrunTicks: overrun,
      ticks,
      cyclesPerSecWanted: (o.count * o.speed * 1000) / o.intervalMs,
    });
    // Deliver whatever is still queued (a failed upload leaves records behind).
    await limited(agents, o.concurrency, async (a) => {
      if (a.status().queued > 0 && a.status().onboarded) await a.flush().catch((err: { kind?: string }) => sampler.addError(`agent_final_flush_${err.kind ?? 'error'}`));
    });
    // The harness's one accounting (lib/records), judged by the load's stricter rule: nothing dropped or left queued.
    // A shared cloud's ledger holds every shard's agents: this run accounts for its own.
    const own = new Set(agents.map((a) => a.agentId.toLowerCase()));
    const entries = (await cloud.ledger(t.workspace.id)).filter((e) => own.has(e.agentId.toLowerCase()));
    const account = accountDelivery(
      agents.map((a) => ({ agent: a.name, agentId: a.agentId, records: a.records(), lastError: a.status().lastError })),
      entries.map((e) => ({ agentId: e.agentId, recordIds: e.recordIds, duplicates: e.duplicateRecordIds })),
    );
    const dropped = Object.values(account.dropped).reduce((a, b) => a + b, 0);
    const queued = account.perAgent.reduce((n, a) => n + a.queued, 0);
    const byOs: Record<string, number> = fleet ? Object.fromEntries(Object.entries(fleet.status().byOs).map(([k, v]) => [k, v!.agents])) : {};
    if (ama) byOs.ama = ama.agents.length;
    return {
      records: checkRecords({ created: account.created, acknowledged: account.acknowledged, ingested: account.ingested, dropped, queued, unaccounted: account.lost }),
      agents: {
        count: o.count,
        onboarded: onboarded(),
        byOs,
        ticks,
        overrunTicks: overrun,
        kbPerUploadMeasured: Math.round(entries.reduce((n, e) => n + e.decodedBytes, 0) / 1024 / Math.max(1, sampler.requests)),
        cpu,
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}
