import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../lib/clock.js';
import { InputError } from '../lib/errors.js';
import { packageRoot } from '../lib/paths.js';
import { generateBenchCerts } from '../harness/certs.js';
import { spawnReady, type ReadyChild } from '../harness/child.js';
import { freeLoopbackPort } from '../harness/free-port.js';
import { spawnGateway, type GatewayProcess } from '../gateway/process.js';
import { createFakeCloud, type FakeCloud } from '../fake-oms-endpoints/index.js';
import { createFleet, type AgentBehavior, type Fleet, type SimulatedAgent } from '../simulators/agent-core/index.js';
import { checkRecords, compareCounters, type AccuracyReport, type AccuracySample, type GatewayCounterValues, type TruthValues } from './accuracy.js';
import { assertLoopback, expandSourceRange } from '../harness/driver/loopback.js';
import { spawnDriver, type SpawnedDriver } from '../harness/driver/spawn.js';
import { newHistogram, recordSince, summarize } from '../harness/driver/stats.js';
import type { DriverResult, DriverSample, Endpoint, LatencySummary } from '../harness/driver/types.js';
import { emptyProbeTally, probeConnect, type ProbeTally } from './probes.js';
import { establishedClientConnections } from './truth/proc-net.js';

export type LoadProfile = 'agents' | 'churn' | 'keepalive' | 'idle';
export const PROFILES: LoadProfile[] = ['agents', 'churn', 'keepalive', 'idle'];

export interface LoadOptions {
  profile: LoadProfile;
  /** agents: fleet size; churn/keepalive/idle: connections. */
  count: number;
  durationMs: number;
  /** agents: agents join linearly over this time. */
  rampUpMs: number;
  /** Most agent cycles (or tunnel openings) in flight at once. */
  concurrency: number;
  /** Forbidden-target CONNECTs per second (expected 403 rejections). */
  forbiddenRate: number;
  /** CONNECTs per second to an allowed host whose upstream is down (expected 502 errors). */
  errorRate: number;
  /** Plain-HTTP (non-CONNECT) requests sent with autocannon at the end: expected 405 refusals (event 104, no counter). */
  httpRefusals?: number;
  /** Sizing profile: about this many KB of data per agent per interval. */
  kbPerUpload: number;
  intervalMs: number;
  /** Time compression for the agents profile: an interval lasts intervalMs / speed of real time. */
  speed: number;
  mix: { windows: number; linux: number };
  /** Agents' behaviour model (default: the faithful one per OS). */
  behavior?: AgentBehavior;
  /** Any CONNECT proxy instead of starting omsgw. */
  gateway?: Endpoint;
  /** Management API of that gateway (for counters); without it the accuracy table is skipped. */
  adminUrl?: string;
  /** Fixed loopback port for the fake cloud (agents) or the bench upstream (other profiles), so an external proxy can be configured to route there. */
  targetPort?: number;
  seed: string;
  /** Paces ticks and progress (tests may pass a faster clock). */
  clock?: Clock;
  onProgress?: (line: string) => void;
  gatewayExecArgv?: string[];
  /** Real ms to let counters catch up at a quiescent point before calling it a deviation. */
  settleMs?: number;
}

export interface TimelinePoint {
  t: number;
  quiescent: boolean;
  label?: string;
  gateway?: GatewayCounterValues;
  truth: TruthValues;
  requestsPerSec: number;
  p99Us: number;
  errors: number;
  agentsUp?: number;
}

export interface LoadReport {
  version: 1;
  profile: LoadProfile;
  startedAt: string;
  durationMs: number;
  options: Omit<LoadOptions, 'clock' | 'onProgress'>;
  gateway: { kind: 'omsgw' | 'external'; proxy: Endpoint; adminUrl?: string };
  /** loadMs: time the load itself ran (setup and the final checks excluded). */
  throughput: { requests: number; loadMs: number; requestsPerSec: number; bytesIngested?: number; recordsIngested?: number; mbPerSec?: number };
  latency: LatencySummary;
  latencyMeasures: string;
  errorsByKind: Record<string, number>;
  /** Errors other than the ones caused on purpose. */
  unexpectedErrors: number;
  probes: ProbeTally;
  /** autocannon's plain-HTTP refusal phase: responses by status code. */
  /**
   * autocannon's plain-HTTP refusal phase. `writes` is autocannon's count of requests written; as the
   * gateway closes after each refusal, autocannon loses the request it wrote on the closing connection,
   * so `responses` (answered, by status in byStatus) is the number that reached the gateway's parser.
   */
  httpRefusals?: { writes: number; responses: number; byStatus: Record<string, number>; errors: number; reqPerSec: number };
  agents?: { count: number; onboarded: number; byOs: Record<string, number>; ticks: number; overrunTicks: number; kbPerUploadMeasured: number };
  driver?: Omit<DriverResult, 'samples'>;
  timeline: TimelinePoint[];
  accuracy: AccuracyReport | null;
  ok: boolean;
  verdict: string[];
}

export const FORBIDDEN_HOST = 'forbidden.omsgw-load.invalid';
export const DEAD_HOST = 'unreachable.omsgw-load.invalid';
export const DRIVER_HOST = 'load.omsgw-bench.invalid';
const PROBE_SOURCES = { forbidden: '127.9.0.1', error: '127.9.0.2' };

export function validateLoadOptions(o: LoadOptions): void {
  if (!PROFILES.includes(o.profile)) throw new InputError(`--profile must be one of ${PROFILES.join(', ')}, got "${o.profile}"`);
  const int = (v: number, name: string, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) throw new InputError(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
  };
  int(o.count, o.profile === 'agents' ? '--agents' : '--connections', 1, o.profile === 'agents' ? 4000 : 20000);
  int(o.durationMs, '--duration (ms)', 100, 3_600_000);
  int(o.rampUpMs, '--ramp-up (ms)', 0, 3_600_000);
  int(o.concurrency, '--concurrency', 1, 20000);
  for (const [v, n] of [[o.forbiddenRate, '--forbidden-rate'], [o.errorRate, '--error-rate']] as const) {
    if (!(v >= 0 && v <= 1000)) throw new InputError(`${n} must be a number of CONNECTs per second from 0 to 1000, got ${v}`);
  }
  if (!(o.kbPerUpload > 0 && o.kbPerUpload <= 10_000)) throw new InputError(`--kb-per-upload must be between 0 and 10000, got ${o.kbPerUpload}`);
  if (!(o.speed > 0 && o.speed <= 10_000)) throw new InputError(`--speed must be a positive number up to 10000, got ${o.speed}`);
  int(o.intervalMs, '--interval (ms)', 1, 3_600_000);
  if (o.gateway) assertLoopback(o.gateway.host, '--gateway host');
  if (o.targetPort !== undefined && (!Number.isInteger(o.targetPort) || o.targetPort < 1 || o.targetPort > 65535)) {
    throw new InputError(`--target-port must be a port number from 1 to 65535, got ${o.targetPort}`);
  }
  if (o.httpRefusals !== undefined && (!Number.isInteger(o.httpRefusals) || o.httpRefusals < 0 || o.httpRefusals > 1_000_000)) {
    throw new InputError(`--http-refusals must be a whole number from 0 to 1000000, got ${o.httpRefusals}`);
  }
  if (o.adminUrl) {
    let u: URL;
    try {
      u = new URL(o.adminUrl);
    } catch {
      throw new InputError(`--admin must be a URL like http://127.0.0.1:8081, got "${o.adminUrl}"`);
    }
    assertLoopback(u.hostname, '--admin host');
  }
  if (!(o.mix.windows >= 0 && o.mix.linux >= 0 && o.mix.windows + o.mix.linux > 0)) throw new InputError('--mix needs a positive weight for windows or linux, e.g. windows=1,linux=1');
}

async function readCounters(adminUrl: string): Promise<GatewayCounterValues> {
  const res = await fetch(`${adminUrl}/api/counters`);
  if (!res.ok) throw new Error(`GET ${adminUrl}/api/counters answered ${res.status}`);
  const c = (await res.json()) as GatewayCounterValues;
  return { activeClientConnections: c.activeClientConnections, connectedClients: c.connectedClients, rejectionCount: c.rejectionCount, errorCount: c.errorCount };
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((r) => clock.setTimeout(r, Math.max(0, ms)));
}

/** Runs `fn` over items with at most `limit` in flight. */
async function limited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Drives one load run end to end and returns its report (never throws for load-side failures; they are in the report). */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  validateLoadOptions(o);
  const clock = o.clock ?? systemClock;
  const log = o.onProgress ?? (() => undefined);
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'omsgw-load-'));
  const workspaceId = randomUUID();
  const workspaceKey = randomBytes(64).toString('base64');
  let cloud: FakeCloud | undefined;
  let upstream: ReadyChild<{ port: number; pid: number }> | undefined;
  let gw: GatewayProcess | undefined;
  let fleet: Fleet | undefined;
  let driver: SpawnedDriver | undefined;
  const timeline: TimelinePoint[] = [];
  const accuracySamples: AccuracySample[] = [];
  const errorsByKind: Record<string, number> = {};
  const addError = (k: string): void => void (errorsByKind[k] = (errorsByKind[k] ?? 0) + 1);
  const sources = new Set<string>();
  const probes = emptyProbeTally();
  const latency = newHistogram();
  const interval = newHistogram();
  let requests = 0;
  let lastRequests = 0;
  let lastT = 0;
  let driverSample: DriverSample | undefined;
  let driverResult: DriverResult | undefined;
  let agentsInfo: LoadReport['agents'];
  let progressTimer: ReturnType<Clock['setInterval']> | undefined;
  let probeTimer: ReturnType<Clock['setInterval']> | undefined;
  const probesInFlight = new Set<Promise<void>>();
  let probesPaused = false;
  let records: ReturnType<typeof checkRecords> | undefined;
  let httpRefusals: LoadReport['httpRefusals'];
  let loadStart = 0;
  let loadMs = 0;
  let proxy: Endpoint;
  let adminUrl = o.adminUrl;
  // Set when the load itself starts (setup time does not count against --duration).
  let deadline = Number.POSITIVE_INFINITY;

  try {
    // --- targets and gateway ---------------------------------------------------------------
    const deadPort = await freeLoopbackPort(); // nothing listens there: CONNECTs to DEAD_HOST fail upstream
    const allow: string[] = [DEAD_HOST];
    const hostMap: string[] = [`${DEAD_HOST}=127.0.0.1:${deadPort}`];
    let driverTls: { ca: string; cert: string; key: string } | undefined;
    if (o.profile === 'agents') {
      cloud = createFakeCloud({ stateDir: join(workDir, 'cloud'), workspaces: [{ id: workspaceId, key: workspaceKey }], port: o.targetPort ?? 0 });
      await cloud.start();
      for (const e of cloud.hostMapEntries()) {
        hostMap.push(e);
        allow.push(e.slice(0, e.indexOf('=')));
      }
    } else {
      const certs = generateBenchCerts(join(workDir, 'certs'));
      driverTls = { ca: certs.serverCert, cert: certs.clientCert, key: certs.clientKey };
      upstream = await spawnReady(process.execPath, [join(packageRoot(), 'dist', 'harness', 'upstream', 'main.js'), certs.files.serverCert, certs.files.serverKey, String(o.targetPort ?? 0)], { prefix: 'omsgw-bench-upstream-ready' });
      hostMap.push(`${DRIVER_HOST}=127.0.0.1:${upstream.info.port}`);
      allow.push(DRIVER_HOST);
    }
    if (o.gateway) {
      proxy = o.gateway;
      log(`using the CONNECT proxy at ${proxy.host}:${proxy.port}${adminUrl ? ` (counters from ${adminUrl})` : ' (no --admin: counters not compared)'}; it must map ${o.profile === 'agents' ? 'the fake cloud hosts' : DRIVER_HOST} itself`);
    } else {
      const args = ['--listen-host', '127.0.0.1', '--max-connections', '20000', '--quiet'];
      for (const h of allow) args.push('--allow-host', h);
      for (const m of hostMap) args.push('--host-map', m);
      gw = await spawnGateway(args, { cwd: workDir, env: o.gatewayExecArgv?.length ? { NODE_OPTIONS: o.gatewayExecArgv.join(' ') } : undefined });
      proxy = { host: gw.proxyHost, port: gw.proxyPort };
      adminUrl = gw.adminUrl;
      log(`omsgw gateway pid ${gw.pid} on ${proxy.host}:${proxy.port}, management API ${adminUrl}`);
    }

    // --- measurement helpers -----------------------------------------------------------------
    const truthNow = (): TruthValues => ({
      openConnections: establishedClientConnections(proxy.port, proxy.host) ?? driverSample?.open ?? 0,
      distinctSources: sources.size + (driverSample?.sources ?? 0),
      rejectionsCaused: probes.rejectionsCaused + (driverResult?.errors['connect_403'] ?? 0),
      errorsCaused: probes.errorsCaused,
    });
    const agentsUp = (): number | undefined => (fleet ? fleet.status().total.onboarded : undefined);
    const point = async (quiescent: boolean, label?: string): Promise<void> => {
      const t = Date.now() - started;
      let gateway: GatewayCounterValues | undefined;
      let truth = truthNow();
      if (adminUrl) {
        // At a quiescent point the gateway may still be processing the last closes: give it
        // settleMs to agree, reading the truth on both sides of the counter read.
        const until = Date.now() + (quiescent ? (o.settleMs ?? 3000) : 0);
        for (;;) {
          const before = truthNow();
          try {
            gateway = await readCounters(adminUrl);
          } catch (err) {
            addError('counters_unreadable');
            log(`cannot read counters: ${(err as Error).message}`);
            gateway = undefined;
          }
          truth = truthNow();
          const agree = gateway && JSON.stringify(before) === JSON.stringify(truth) &&
            gateway.activeClientConnections === truth.openConnections && gateway.connectedClients === truth.distinctSources &&
            gateway.rejectionCount === truth.rejectionsCaused && gateway.errorCount === truth.errorsCaused;
          if (!quiescent || agree || !gateway || Date.now() >= until) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const dt = Math.max(1, t - lastT);
      const rps = ((requests - lastRequests) * 1000) / dt;
      lastRequests = requests;
      lastT = t;
      const p99Us = driverSample ? driverSample.p99Us : interval.totalCount ? interval.getValueAtPercentile(99) : 0;
      interval.reset();
      const errors = Object.values(errorsByKind).reduce((a, b) => a + b, 0) + (driverSample?.errors ?? 0);
      timeline.push({ t, quiescent, label, gateway, truth, requestsPerSec: Math.round(rps), p99Us, errors, agentsUp: agentsUp() });
      if (gateway) accuracySamples.push({ t, quiescent, label, gateway, truth });
      const g = gateway;
      log(
        `${(t / 1000).toFixed(1)}s${quiescent ? ' [quiescent' + (label ? ` ${label}` : '') + ']' : ''} ` +
          (fleet ? `agents up ${agentsUp()}/${o.count} ` : '') +
          `req/s ${Math.round(rps)} p99 ${(p99Us / 1000).toFixed(1)}ms errors ${errors} | ` +
          `active ${g?.activeClientConnections ?? '-'}/${truth.openConnections} clients ${g?.connectedClients ?? '-'}/${truth.distinctSources} ` +
          `rejections ${g?.rejectionCount ?? '-'}/${truth.rejectionsCaused} errors ${g?.errorCount ?? '-'}/${truth.errorsCaused} (gateway/truth)`,
      );
    };
    const fireProbe = (kind: 'forbidden' | 'error'): void => {
      const target = kind === 'forbidden' ? `${FORBIDDEN_HOST}:443` : `${DEAD_HOST}:443`;
      const src = PROBE_SOURCES[kind];
      if (kind === 'forbidden') probes.forbiddenSent++;
      else probes.errorProbesSent++;
      const p = probeConnect(proxy, target, src).then((status) => {
        if (status !== 'error') sources.add(src);
        if (kind === 'forbidden' && status === 403) probes.rejectionsCaused++;
        else if (kind === 'error' && (status === 502 || status === 504)) probes.errorsCaused++;
        else probes.unexpected[`${kind}_${status}`] = (probes.unexpected[`${kind}_${status}`] ?? 0) + 1;
      });
      probesInFlight.add(p);
      void p.finally(() => probesInFlight.delete(p));
    };
    // Probes are paced per tick of 100 ms so their count is exact for the elapsed time.
    let probeCredit = { forbidden: 0, error: 0 };
    const probeTick = (): void => {
      if (probesPaused) return;
      probeCredit = { forbidden: probeCredit.forbidden + o.forbiddenRate / 10, error: probeCredit.error + o.errorRate / 10 };
      while (probeCredit.forbidden >= 1) {
        probeCredit.forbidden--;
        fireProbe('forbidden');
      }
      while (probeCredit.error >= 1) {
        probeCredit.error--;
        fireProbe('error');
      }
    };
    const quiesceProbes = async (): Promise<void> => {
      probesPaused = true;
      await Promise.all([...probesInFlight]);
    };

    await point(true, 'start');
    loadStart = Date.now();
    deadline = loadStart + o.durationMs;
    if (o.forbiddenRate > 0 || o.errorRate > 0) probeTimer = clock.setInterval(probeTick, 100);

    // --- the load ------------------------------------------------------------------------------
    if (o.profile === 'agents') {
      // ~1.2 KB per log row of JSON before deflate; rows per collection sized to kbPerUpload.
      const messageBytes = 1000;
      const logRows = Math.max(1, Math.round((o.kbPerUpload * 1024) / (messageBytes + 250)));
      fleet = createFleet({
        count: o.count,
        mix: o.mix,
        bindRange: '127.10.0.0/16',
        workspaceId,
        workspaceKey,
        proxy: `http://${proxy.host}:${proxy.port}`,
        caPem: cloud!.caCertPem,
        seed: o.seed,
        concurrency: Math.min(o.concurrency, 64),
        keyCacheDir: join(tmpdir(), 'omsgw-load-keys'),
        volume: { perfSamples: 10, logRows, messageBytes },
        behavior: o.behavior,
        batchSize: 100_000,
      });
      fleet.on('delivered', (_ev, agent) => void (agent.bindAddress && sources.add(agent.bindAddress)));
      for (const a of fleet.agents) a.on('tunnel', (info) => void (info.localAddress && sources.add(info.localAddress)));
      await fleet.prepare();
      progressTimer = clock.setInterval(() => void point(false), 1000);
      let ticks = 0;
      let overrun = 0;
      const realTick = o.intervalMs / o.speed;
      const runStart = Date.now();
      while (Date.now() < deadline) {
        const tickStart = Date.now();
        const elapsed = tickStart - runStart;
        const active = o.rampUpMs > 0 ? Math.min(o.count, Math.max(1, Math.ceil((o.count * (elapsed + realTick)) / o.rampUpMs))) : o.count;
        probesPaused = false;
        await limited(fleet.agents.slice(0, active), o.concurrency, async (agent: SimulatedAgent) => {
          const t0 = process.hrtime.bigint();
          try {
            await agent.runOnce();
            recordSince(latency, t0);
            recordSince(interval, t0);
            requests++;
          } catch (err) {
            const e = err as { kind?: string; details?: { proxyStatus?: number; statusCode?: number } };
            addError(`agent_${e.kind ?? 'error'}${e.details?.proxyStatus ? `_${e.details.proxyStatus}` : e.details?.statusCode ? `_${e.details.statusCode}` : ''}`);
          }
        });
        ticks++;
        await quiesceProbes();
        await point(true, `tick ${ticks}`);
        const left = tickStart + realTick - Date.now();
        if (left < 0) overrun++;
        else if (Date.now() + left < deadline) await sleep(clock, left);
        else break;
      }
      // Deliver whatever is still queued (a failed upload leaves records behind).
      await limited(fleet.agents, o.concurrency, async (a) => {
        if (a.status().queued > 0 && a.status().onboarded) await a.flush().catch((err: { kind?: string }) => addError(`agent_final_flush_${err.kind ?? 'error'}`));
      });
      const s = fleet.summary();
      const ingested = cloud!.ledger.summary({ workspaceId }).reduce((a, e) => a + e.recordIds.length, 0);
      const totals = cloud!.ledger.totals();
      const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
      records = checkRecords({ created: s.created, acknowledged: s.acknowledged, ingested, dropped, queued: s.queued });
      const st = fleet.status();
      const uploads = cloud!.ledger.summary({ workspaceId }).filter((e) => e.dataType !== 'HEARTBEAT').reduce((a, e) => a + e.posts, 0);
      agentsInfo = {
        count: o.count,
        onboarded: st.total.onboarded,
        byOs: Object.fromEntries(Object.entries(st.byOs).map(([k, v]) => [k, v!.agents])),
        ticks,
        overrunTicks: overrun,
        kbPerUploadMeasured: Math.round(totals.decodedBytes / 1024 / Math.max(1, requests)),
      };
      void uploads;
    } else {
      const localAddresses = expandSourceRange('127.11.0.0/16').slice(0, Math.min(o.count, 1000));
      driver = spawnDriver(
        {
          mode: o.profile,
          proxy,
          target: { host: DRIVER_HOST, port: 443 },
          tls: { ...driverTls!, servername: DRIVER_HOST, skipHostnameCheck: true },
          connections: o.count,
          durationMs: o.durationMs,
          openConcurrency: o.concurrency,
          localAddresses,
          sampleIntervalMs: 500,
          bodyBytes: 256,
        },
        {
          onSample: (s) => {
            driverSample = s;
            requests = s.requests;
          },
        },
      );
      progressTimer = clock.setInterval(() => void point(false), 1000);
      if (o.profile === 'idle') {
        await driver.idleReady;
        await quiesceProbes();
        // The driver samples every 500 ms: wait for one taken after the last tunnel opened.
        await new Promise((r) => setTimeout(r, 600));
        await point(true, 'all tunnels open');
        probesPaused = false;
      }
      driverResult = await driver.result;
      driverSample = driverResult.samples[driverResult.samples.length - 1] ?? driverSample;
      requests = driverResult.requests;
      for (const [k, v] of Object.entries(driverResult.errors)) errorsByKind[`driver_${k}`] = v;
    }

    loadMs = Date.now() - loadStart;
    // --- final quiescent point ------------------------------------------------------------------
    if (progressTimer) clock.clearInterval(progressTimer);
    progressTimer = undefined;
    if (probeTimer) clock.clearInterval(probeTimer);
    probeTimer = undefined;
    await quiesceProbes();
    if (o.httpRefusals) {
      await point(true, 'before plain-HTTP refusals');
      httpRefusals = await plainHttpRefusals(proxy, o.httpRefusals);
      // autocannon connects from the default source address.
      if (httpRefusals.responses > 0) sources.add('127.0.0.1');
      for (const [status, n] of Object.entries(httpRefusals.byStatus)) if (status !== '405') probes.unexpected[`http_refusal_${status}`] = n;
      if (httpRefusals.errors) probes.unexpected['http_refusal_socket_errors'] = httpRefusals.errors;
      log(`plain-HTTP refusals (autocannon): ${httpRefusals.responses} answered, by status ${JSON.stringify(httpRefusals.byStatus)}, ${httpRefusals.reqPerSec} req/s`);
    }
    if (fleet) {
      await fleet.close();
      fleet = undefined;
    }
    await point(true, 'end');
  } finally {
    if (progressTimer) clock.clearInterval(progressTimer);
    if (probeTimer) clock.clearInterval(probeTimer);
    driver?.kill();
    await fleet?.close().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    await upstream?.stop().catch(() => undefined);
    await cloud?.close().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }

  const durationMs = Date.now() - started;
  const accuracy = accuracySamples.length ? compareCounters(accuracySamples, records) : null;
  const expected = new Set(['driver_connect_403']);
  const unexpectedErrors = Object.entries(errorsByKind).filter(([k]) => !expected.has(k)).reduce((a, [, v]) => a + v, 0) + Object.values(probes.unexpected).reduce((a, b) => a + b, 0);
  const verdict: string[] = [];
  if (accuracy) verdict.push(...accuracy.problems);
  else {
    verdict.push('counters not compared: no management API (--admin) for this gateway');
    if (records && !records.ok) verdict.push(`${records.lost} record(s) lost`);
  }
  if (unexpectedErrors > 0) verdict.push(`${unexpectedErrors} unexpected error(s): ${JSON.stringify({ ...errorsByKind, ...probes.unexpected })}`);
  const ok = (accuracy ? accuracy.ok : !records || records.ok) && unexpectedErrors === 0;
  const lat = driverResult ? driverResult.latency : summarize(latency);
  const { clock: _c, onProgress: _p, ...opts } = o;
  const { samples: _s, ...driverRest } = driverResult ?? ({ samples: [] } as unknown as DriverResult);
  return {
    version: 1,
    profile: o.profile,
    startedAt: new Date(started).toISOString(),
    durationMs,
    options: opts,
    gateway: { kind: o.gateway ? 'external' : 'omsgw', proxy: proxy!, adminUrl },
    throughput: {
      requests,
      loadMs,
      requestsPerSec: driverResult ? driverResult.requestsPerSec : Math.round((requests / Math.max(1, loadMs)) * 1000 * 10) / 10,
      ...(records ? { recordsIngested: records.ingested } : {}),
      ...(driverResult ? { mbPerSec: driverResult.mbPerSec } : {}),
    },
    latency: lat,
    latencyMeasures: o.profile === 'agents' ? 'one agent cycle: collect, CONNECT + TLS, upload, acknowledgement (µs)' : o.profile === 'idle' ? 'tunnel setup (µs)' : 'one request through the tunnel (µs); churn includes CONNECT + TLS',
    errorsByKind,
    unexpectedErrors,
    probes,
    httpRefusals,
    agents: agentsInfo,
    driver: driverResult ? (driverRest as Omit<DriverResult, 'samples'>) : undefined,
    timeline,
    accuracy,
    ok,
    verdict,
  };
}

/** autocannon against the proxy port with plain GETs: a CONNECT-only gateway refuses each (405). */
async function plainHttpRefusals(proxy: Endpoint, amount: number): Promise<NonNullable<LoadReport['httpRefusals']>> {
  const result = await autocannon({ url: `http://${proxy.host}:${proxy.port}/`, amount, connections: Math.min(10, amount), timeout: 10 });
  const byStatus: Record<string, number> = {};
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, v] of Object.entries(stats)) byStatus[code] = v.count;
  return { writes: result.requests.sent, responses: result.requests.total, byStatus, errors: result.errors + result.timeouts, reqPerSec: Math.round(result.requests.average) };
}
