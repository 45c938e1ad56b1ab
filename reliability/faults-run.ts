import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCloud, odsHost, type FakeCloud, type FaultSpec } from '../fake-oms-endpoints/index.js';
import { spawnGateway, type GatewayProcess } from '../gateway/process.js';
import { ManualClock } from '../lib/clock.js';
import type { Fleet, SimulatedAgent } from '../simulators/agent-core/index.js';
import { auditDelivery, type DeliveryAudit } from './delivery-audit.js';
import { settle } from './fleet-settle.js';
import { createLabFleet } from './lab-fleet.js';
import { countEventIds, labGatewayArgs, readEventLogFile } from './lab-gateway.js';

/**
 * Faults without loss: a scheduled fleet on a ManualClock uploads through a gateway child process
 * to the fake cloud while the cloud answers 503 and 429 with Retry-After, resets connections,
 * hangs, answers slowly, and the gateway is restarted mid-run. The agents must back off (honouring
 * Retry-After) and in the end deliver every record.
 */

export interface FaultPhaseReport {
  name: string;
  /** How often the cloud fired the injected fault(s). */
  faultHits: number;
  /** Upload/onboarding failures the agents saw during the phase. */
  agentFailures: number;
  /** Backoff delays the agents chose after those failures (agent clock ms). */
  delaysMs: number[];
  /** The smallest delay allowed by the server's Retry-After, when there was one. */
  retryAfterMs?: number;
  deliveredDuringPhase: number;
}

export interface FaultsReport {
  agents: number;
  phases: FaultPhaseReport[];
  gatewayRestarts: number;
  /** Agent clock time from the first fault to the last record delivered. */
  clockMsToDrain: number;
  audit: DeliveryAudit;
  gatewayEventCounts: Record<string, number>;
  realMs: number;
}

export interface FaultsOptions {
  agents?: number;
  seed?: number;
  log?: (line: string) => void;
}

const WS = { id: '9c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5', key: Buffer.from('faults lab shared key (not a secret)').toString('base64') };
const COLLECT_MS = 60_000;

export async function runFaultsNoLoss(options: FaultsOptions = {}): Promise<FaultsReport> {
  const realStart = Date.now();
  const log = options.log ?? (() => undefined);
  const count = options.agents ?? 6;
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-faults-'));
  const clock = new ManualClock(Date.now());
  let cloud: FakeCloud | undefined;
  let gw: GatewayProcess | undefined;
  let fleet: Fleet | undefined;
  const eventLog = join(dir, 'gateway-events.jsonl');
  try {
    cloud = createFakeCloud({ stateDir: join(dir, 'cloud'), workspaces: [WS], clock });
    await cloud.start();
    const args = [...labGatewayArgs(cloud, WS.id, eventLog), '--no-admin'];
    gw = await spawnGateway(args);
    const proxyPort = gw.proxyPort;
    fleet = createLabFleet({
      count,
      workspace: WS,
      proxyPort: proxyPort,
      caPem: cloud.caCertPem,
      seed: options.seed ?? 77,
      clock,
      bindRange: '127.0.9.0/24',
      collectIntervalMs: COLLECT_MS,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 1500,
    });
    const f = fleet;
    await f.prepare();

    // Each failure, with the delay the agent then chose (read once its catch block has run).
    const failures: Array<{ agent: string; statusCode?: number; delayMs?: number }> = [];
    f.on('failed', (_ev, agent: SimulatedAgent) => {
      const entry: { agent: string; statusCode?: number; delayMs?: number } = { agent: agent.identity.hostname, statusCode: agent.status().lastFailure?.statusCode };
      failures.push(entry);
      setImmediate(() => {
        const next = agent.status().nextRetryAt;
        if (next !== undefined) entry.delayMs = next - clock.now();
      });
    });

    f.start();
    await f.waitFor({ onboarded: 'all' }, { timeoutMs: 20_000 });
    await settle(f);
    await clock.advance(COLLECT_MS);
    await settle(f);
    if (f.status().total.delivered === 0) throw new Error(`no data delivered before the faults: ${JSON.stringify(f.status())}`);
    log(`baseline: ${JSON.stringify(f.status().total)}`);
    const faultStart = clock.now();

    const phases: FaultPhaseReport[] = [];
    let restarts = 0;
    const phase = async (name: string, specs: FaultSpec[], steps: number, stepMs: number, during?: (step: number) => Promise<void>, retryAfterMs?: number) => {
      const ids = specs.map((s) => cloud!.faults.add(s).id);
      const failuresBefore = failures.length;
      const deliveredBefore = f.status().total.delivered;
      for (let i = 0; i < steps; i++) {
        if (during) await during(i);
        await clock.advance(stepMs);
        await settle(f);
      }
      const hits = cloud!.faults.list().filter((x) => ids.includes(x.id)).reduce((a, x) => a + x.hits, 0);
      for (const id of ids) cloud!.faults.remove(id);
      await new Promise((r) => setImmediate(r));
      const seen = failures.slice(failuresBefore);
      const report: FaultPhaseReport = {
        name,
        faultHits: hits,
        agentFailures: seen.length,
        delaysMs: seen.map((s) => s.delayMs).filter((d): d is number => d !== undefined),
        retryAfterMs,
        deliveredDuringPhase: f.status().total.delivered - deliveredBefore,
      };
      phases.push(report);
      log(`${name}: ${JSON.stringify(report)}`);
    };
    const ods = odsHost(WS.id);
    await phase('503 with Retry-After 90 s', [{ type: 'status', status: 503, retryAfterSeconds: 90, host: ods, count: 4 }], 4, COLLECT_MS, undefined, 90_000);
    await phase('429 with Retry-After 150 s', [{ type: 'status', status: 429, retryAfterSeconds: 150, host: ods, count: 4 }], 5, COLLECT_MS, undefined, 150_000);
    await phase('connection resets', [{ type: 'reset', host: ods, count: 4 }], 4, COLLECT_MS);
    await phase('hung responses (agent request timeout)', [{ type: 'hang', host: ods, count: 3 }], 4, COLLECT_MS);
    await phase('slow responses (800 ms)', [{ type: 'latency', latencyMs: 800, host: ods, count: 8 }], 2, COLLECT_MS);
    await phase('gateway restart mid-run', [], 4, COLLECT_MS, async (step) => {
      if (step === 0) {
        await gw!.stop();
        log('gateway stopped');
      }
      if (step === 2) {
        gw = await spawnGateway([...args, '--listen-port', String(proxyPort)]);
        restarts++;
        log(`gateway restarted as pid ${gw.pid} on port ${proxyPort}`);
      }
    });

    // Drain: no faults left; let the backoff timers run out.
    for (let i = 0; i < 30 && f.status().total.queued > 0; i++) {
      await clock.advance(COLLECT_MS);
      await settle(f);
    }
    // One last collection to deliver, then stop producing, so the books can close.
    await f.close();
    const drained = f.status().total.queued === 0;
    const clockMsToDrain = drained ? clock.now() - faultStart : -1;
    const audit = auditDelivery(f.agents, cloud);
    await gw.stop();
    const counts = countEventIds(readEventLogFile(eventLog));
    return { agents: count, phases, gatewayRestarts: restarts, clockMsToDrain, audit, gatewayEventCounts: counts, realMs: Date.now() - realStart };
  } finally {
    await fleet?.close().catch(() => undefined);
    if (gw && gw.child.exitCode === null && gw.child.signalCode === null) await gw.stop().catch(() => undefined);
    await cloud?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
