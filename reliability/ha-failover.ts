import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCloud, odsHost, type FakeCloud } from '../fake-oms-endpoints/index.js';
import { spawnGateway, type GatewayProcess } from '../gateway/process.js';
import { ManualClock } from '../lib/clock.js';
import type { Fleet } from '../simulators/agent-core/index.js';
import { auditDelivery, type DeliveryAudit } from './delivery-audit.js';
import { settle } from './fleet-settle.js';
import { createLabFleet } from './lab-fleet.js';
import { countEventIds, labGatewayArgs, readEventLogFile, type LoggedEvent } from './lab-gateway.js';
import { HaproxyNotInstalledError, findHaproxy, startHaproxy, type BackendState, type HaproxyHandle } from './haproxy.js';

/**
 * High availability as the real product was deployed: two gateways behind a TCP load balancer
 * with a health probe. A fleet uploads through the balancer; one gateway is killed with SIGKILL
 * while tunnels are open through it; the fleet must carry on through the other and, in the end,
 * every record is in the cloud or still queued with a reason.
 */

export interface HaFailoverOptions {
  /** Agents in the fleet (half Windows, half Linux). Default 10. */
  agents?: number;
  /** Clock minutes after the kill before giving up on draining the queues. Default 10. */
  recoveryRounds?: number;
  /** Cloud latency added to each data post during the kill round, so tunnels are open when the kill lands. Default 400 ms. */
  inFlightLatencyMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface GatewayReport {
  name: string;
  pid: number;
  killed: boolean;
  /** Last counters read from its management API (for the killed one: just before the kill). */
  counters: Record<string, unknown> | undefined;
  /** Its events, from its JSON-lines event-log file (survives the SIGKILL). */
  events: LoggedEvent[];
  eventCounts: Record<string, number>;
}

export interface HaFailoverReport {
  agents: number;
  killed: string;
  /** Tunnels open through the killed gateway at the moment of the kill. */
  tunnelsOpenAtKill: number;
  backendStatesBeforeKill: Record<string, BackendState>;
  backendStatesAfterKill: Record<string, BackendState>;
  /** How long haproxy took to mark the killed gateway DOWN. */
  detectedDownAfterMs: number;
  /** Clock minutes it took after the kill until nothing was queued. */
  roundsAfterKill: number;
  agentFailuresInKillRound: number;
  audit: DeliveryAudit;
  gateways: GatewayReport[];
  durationMs: number;
}

const COLLECT_MS = 60_000;
const WS = { id: '4f8a1c2e-7b3d-4e6f-9a10-b2c3d4e5f601', key: Buffer.from('ha failover lab shared key (not a secret)').toString('base64') };

async function getJson(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function runHaFailover(options: HaFailoverOptions = {}): Promise<HaFailoverReport> {
  // The balancer is the point of the exercise: without haproxy, fail before starting anything.
  if (!findHaproxy()) throw new HaproxyNotInstalledError();
  const started = Date.now();
  const count = options.agents ?? 10;
  const log = (line: string) => options.log?.(`+${Date.now() - started} ms ${line}`);
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-ha-'));
  let cloud: FakeCloud | undefined;
  const gws: Array<{ name: string; proc: GatewayProcess; eventLog: string; counters?: Record<string, unknown>; killed: boolean }> = [];
  let lb: HaproxyHandle | undefined;
  let fleet: Fleet | undefined;
  let poller: NodeJS.Timeout | undefined;
  try {
    // Agents and cloud share one manual clock (the cloud checks x-ms-Date against it); it starts
    // at real time so certificates made on it are valid for TLS, which uses real time.
    const clock = new ManualClock(Date.now());
    cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [WS], clock });
    await cloud.start();
    for (const name of ['gw1', 'gw2']) {
      const eventLog = join(dir, `${name}-events.jsonl`);
      const proc = await spawnGateway(labGatewayArgs(cloud, WS.id, eventLog));
      gws.push({ name, proc, eventLog, killed: false });
      log(`${name}: pid ${proc.pid}, proxy ${proc.proxyPort}, admin ${proc.adminUrl}`);
    }
    lb = await startHaproxy({ backends: gws.map((g) => ({ name: g.name, host: '127.0.0.1', port: g.proc.proxyPort })), checkIntervalMs: 100, fall: 2, rise: 1 });
    for (const g of gws) await lb.waitForBackend(g.name, 'UP');
    log(`haproxy: pid ${lb.pid}, port ${lb.port}`);
    // Keep the last counters of each gateway (the killed one cannot be asked afterwards).
    const poll = async () => {
      for (const g of gws) if (!g.killed) g.counters = (await getJson(`${g.proc.adminUrl}/api/counters`)) ?? g.counters;
    };
    poller = setInterval(() => void poll(), 100);

    fleet = createLabFleet({
      count,
      workspace: WS,
      proxyPort: lb.port,
      caPem: cloud.caCertPem,
      seed: options.seed ?? 2016,
      clock,
      bindRange: '127.0.8.0/24',
      collectIntervalMs: COLLECT_MS,
      connectTimeoutMs: 5000,
      requestTimeoutMs: 10_000,
    });
    await fleet.prepare();

    // A running fleet: scheduled collection every minute on the manual clock, uploads right after.
    const f = fleet;
    let failuresAfterKill = 0;
    let killed = false;
    f.on('failed', () => {
      if (killed) failuresAfterKill++;
    });
    f.start();
    await f.waitFor({ onboarded: 'all' }, { timeoutMs: 30_000 });
    await settle(f);
    await clock.advance(COLLECT_MS);
    await settle(f);
    await poll();
    if (f.status().total.delivered === 0) throw new Error(`nothing delivered before the kill: ${JSON.stringify(f.status())}`);
    log(`before the kill: ${JSON.stringify(f.status().total)}`);

    // Slow the data posts so tunnels are open, let the next collection start its uploads, and
    // SIGKILL gw1 while it carries some of them.
    const slow = cloud.faults.add({ type: 'latency', host: odsHost(WS.id), latencyMs: options.inFlightLatencyMs ?? 400 });
    const victim = gws[0]!;
    const tick = clock.advance(COLLECT_MS);
    let tunnelsOpenAtKill = 0;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const c = await getJson(`${victim.proc.adminUrl}/api/counters`);
      if (c) victim.counters = c;
      if (c && Number(c.tunnelsActive) > 0) {
        tunnelsOpenAtKill = Number(c.tunnelsActive);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const backendStatesBeforeKill = await lb.backendStates();
    victim.proc.kill('SIGKILL');
    victim.killed = true;
    killed = true;
    const killedAt = Date.now();
    await victim.proc.exited;
    log(`killed ${victim.name} with ${tunnelsOpenAtKill} tunnel(s) open`);
    await lb.waitForBackend(victim.name, 'DOWN', 5000);
    const detectedDownAfterMs = Date.now() - killedAt;
    await tick;
    await settle(f);
    cloud.faults.remove(slow.id);
    const agentFailuresInKillRound = failuresAfterKill;
    log(`kill round: ${agentFailuresInKillRound} agent failure(s); ${JSON.stringify(f.status().total)}`);

    // Recovery: the clock runs on; agents retry after their backoff, through the surviving gateway.
    let rounds = 0;
    const maxRounds = options.recoveryRounds ?? 10;
    while (rounds < maxRounds) {
      rounds++;
      await clock.advance(COLLECT_MS);
      await settle(f);
      const s = f.status().total;
      log(`recovery minute ${rounds}: queued ${s.queued}, delivered ${s.delivered}, failing ${s.failing}`);
      if (s.queued === 0 && s.failing === 0) break;
    }
    await poll();
    const backendStatesAfterKill = await lb.backendStates();
    const audit = auditDelivery(fleet.agents, cloud);
    clearInterval(poller);
    poller = undefined;
    const report: HaFailoverReport = {
      agents: count,
      killed: victim.name,
      tunnelsOpenAtKill,
      backendStatesBeforeKill,
      backendStatesAfterKill,
      detectedDownAfterMs,
      roundsAfterKill: rounds,
      agentFailuresInKillRound,
      audit,
      gateways: [],
      durationMs: 0,
    };
    await fleet.close();
    fleet = undefined;
    for (const g of gws) {
      if (!g.killed) await g.proc.stop();
      const events = readEventLogFile(g.eventLog);
      report.gateways.push({ name: g.name, pid: g.proc.pid, killed: g.killed, counters: g.counters, events, eventCounts: countEventIds(events) });
    }
    report.durationMs = Date.now() - started;
    return report;
  } finally {
    if (poller) clearInterval(poller);
    await fleet?.close().catch(() => undefined);
    await lb?.stop();
    for (const g of gws) if (g.proc.child.exitCode === null && g.proc.child.signalCode === null) await g.proc.stop().catch(() => undefined);
    await cloud?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
