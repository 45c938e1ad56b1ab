import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateBenchCerts } from '../harness/certs.js';
import { BenchUpstream } from '../harness/upstream/server.js';
import { spawnGateway } from '../gateway/process.js';
import { PacedChurn } from './soak-load.js';
import { InputError } from '../lib/errors.js';
import { LiveHeapReader } from './live-heap.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { ProcessSampler, judgeFlatness, mb, readProcessSample, type FlatnessLimits, type FlatnessVerdict, type ProcessSample } from './soak-sampler.js';

/**
 * Soak: run a gateway child process under steady, paced tunnel churn (a new CONNECT and TLS
 * handshake per request, the path where a per-connection leak would show) and judge whether its
 * resident memory and open file descriptors stay flat. `omsgw load --soak 30m` calls runSoak.
 */

export interface SoakOptions {
  /** Total run time, warm-up included. */
  durationMs: number;
  /** Samples before this are ignored by the verdict; default 20% of the run, at most 5 minutes. */
  warmupMs?: number;
  /** Default: about 120 samples over the run, between 250 ms and 10 s apart. */
  sampleIntervalMs?: number;
  /** New tunnels per second (default 40: steady, and moderate on shared cores). */
  ratePerSecond?: number;
  /** Most tunnels open at once; a tick that finds them all busy is skipped and counted. Default 16. */
  maxInFlight?: number;
  /** The gateway's event ring (default 500: full within any warm-up, so its filling is not growth). */
  eventRingSize?: number;
  /** Override the flatness limits (defaults: 1 MB live heap; 16 MB or 15% RSS growth over runs of 5 minutes or more; 4 fds). */
  limits?: Partial<Omit<FlatnessLimits, 'warmupMs'>>;
  /** Called with each sample as it is taken (for progress output). */
  onSample?: (s: ProcessSample) => void;
  clock?: Clock;
}

export interface SoakReport {
  durationMs: number;
  warmupMs: number;
  sampleIntervalMs: number;
  gatewayPid: number;
  samples: ProcessSample[];
  verdict: FlatnessVerdict;
  load: { ratePerSecond: number; tunnels: number; completed: number; skipped: number; errors: number; errorKinds: Record<string, number> };
  /** The gateway's own counters at the end, from its management API. */
  gatewayCounters: Record<string, unknown>;
  /** One line for humans. */
  summary: string;
}

const SOAK_HOST = 'soak.oms.opinsights.azure.com';

export function validateSoakOptions(o: SoakOptions): Required<Pick<SoakOptions, 'durationMs' | 'warmupMs' | 'sampleIntervalMs' | 'ratePerSecond' | 'maxInFlight' | 'eventRingSize'>> {
  if (!Number.isFinite(o.durationMs) || o.durationMs < 10_000) throw new InputError(`soak duration must be at least 10s, got ${o.durationMs} ms`);
  if (o.durationMs > 7 * 24 * 3_600_000) throw new InputError('soak duration must be at most 7 days');
  const warmupMs = o.warmupMs ?? Math.min(Math.round(o.durationMs * 0.2), 5 * 60_000);
  if (!(warmupMs >= 0 && warmupMs < o.durationMs * 0.8)) throw new InputError(`soak warm-up (${warmupMs} ms) must leave at least 20% of the run for measuring`);
  const sampleIntervalMs = o.sampleIntervalMs ?? Math.min(10_000, Math.max(250, Math.round(o.durationMs / 120)));
  if (!(sampleIntervalMs >= 50)) throw new InputError(`soak sample interval must be at least 50 ms, got ${sampleIntervalMs}`);
  const ratePerSecond = o.ratePerSecond ?? 40;
  if (!(ratePerSecond >= 1 && ratePerSecond <= 1000)) throw new InputError(`soak rate must be 1-1000 tunnels per second, got ${ratePerSecond}`);
  const maxInFlight = o.maxInFlight ?? 16;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 1024) throw new InputError(`soak maxInFlight must be 1-1024, got ${maxInFlight}`);
  const eventRingSize = o.eventRingSize ?? 500;
  if (!Number.isInteger(eventRingSize) || eventRingSize < 1) throw new InputError(`soak eventRingSize must be a positive integer, got ${eventRingSize}`);
  return { durationMs: o.durationMs, warmupMs, sampleIntervalMs, ratePerSecond, maxInFlight, eventRingSize };
}

/** Runs the soak: gateway child + TLS upstream + load driver child, sampling the gateway from /proc. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const o = validateSoakOptions(options);
  const clock = options.clock ?? systemClock;
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-soak-'));
  const certs = generateBenchCerts(join(dir, 'certs'));
  const upstream = new BenchUpstream({ cert: certs.serverCert, key: certs.serverKey, requestCert: true });
  let gateway: Awaited<ReturnType<typeof spawnGateway>> | undefined;
  let sampler: ProcessSampler | undefined;
  const heap = new LiveHeapReader();
  try {
    await upstream.start();
    const config = {
      listenHost: '127.0.0.1',
      listenPort: 0,
      adminHost: '127.0.0.1',
      adminPort: 0,
      allowlist: [SOAK_HOST],
      clientAllowlist: [certs.clientSubject],
      hostMap: [`${SOAK_HOST}=127.0.0.1:${upstream.port}`],
      // Full within the warm-up, so the ring's own growth is not mistaken for a leak.
      eventRingSize: o.eventRingSize,
    };
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify(config, null, 2));
    gateway = await spawnGateway(['--config', join(dir, 'gateway.json')], { cwd: dir, nodeArgs: heap.nodeArgs(), onLine: heap.onLine });
    sampler = new ProcessSampler(gateway.pid, o.sampleIntervalMs, clock, options.onSample);
    sampler.start();
    const churnOptions = {
      proxy: { host: '127.0.0.1', port: gateway.proxyPort },
      target: { host: SOAK_HOST, port: 443 },
      tls: { ca: certs.serverCert, cert: certs.clientCert, key: certs.clientKey, skipHostnameCheck: true },
      ratePerSecond: o.ratePerSecond,
      maxInFlight: o.maxInFlight,
      clock,
    };
    const load = new PacedChurn(churnOptions);
    const adminUrl = gateway.adminUrl!;
    const wait = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    // Warm-up (JIT, pools, the event ring filling), then a pause with nothing connected: the fd count
    // and the live heap there are the baseline the measured part is judged against.
    load.start();
    await wait(o.warmupMs);
    await load.stop();
    const quietBefore = await quietFds(gateway.pid, adminUrl);
    const heapBefore = await heap.read(gateway.pid);
    load.start();
    await wait(o.durationMs - o.warmupMs);
    const result = await load.stop();
    sampler.sampleNow();
    sampler.close();
    const quietAfter = await quietFds(gateway.pid, adminUrl);
    const heapAfter = await heap.read(gateway.pid);
    const counters = await getJson(`${adminUrl}/api/counters`);
    const verdict = judgeFlatness(sampler.samples, {
      warmupMs: o.warmupMs,
      maxRssGrowthBytes: options.limits?.maxRssGrowthBytes ?? 16 * 1024 * 1024,
      maxRssGrowthRatio: options.limits?.maxRssGrowthRatio ?? 0.15,
      maxFdGrowth: options.limits?.maxFdGrowth ?? 4,
      windowFraction: options.limits?.windowFraction,
      minSamples: options.limits?.minSamples,
      maxLiveHeapGrowthBytes: options.limits?.maxLiveHeapGrowthBytes,
      minRssSpanMs: options.limits?.minRssSpanMs,
    }, { before: quietBefore, after: quietAfter }, { before: heapBefore, after: heapAfter });
    const first = sampler.samples[0];
    const last = sampler.samples[sampler.samples.length - 1];
    const summary =
      `soak ${Math.round(o.durationMs / 1000)} s, ${result.completed} tunnels at ${o.ratePerSecond}/s (${result.errors} errors, ${result.skipped} skipped ticks): ` +
      `live heap ${mb(heapBefore.heapUsedBytes + heapBefore.externalBytes)} → ${mb(heapAfter.heapUsedBytes + heapAfter.externalBytes)} with nothing connected (after full GC), ` +
      `RSS ${mb(first?.rssBytes ?? 0)} → ${mb(last?.rssBytes ?? 0)} (after warm-up ${mb(verdict.rss.startBytes)} → ${mb(verdict.rss.endBytes)}${verdict.rss.judged ? '' : ', not judged: too short for RSS'}), ` +
      `fds ${first?.fds ?? 0} → ${last?.fds ?? 0} under load, ${quietBefore} → ${quietAfter} with nothing connected: ${verdict.flat ? 'FLAT' : 'NOT FLAT: ' + verdict.reasons.join('; ')}`;
    return {
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      sampleIntervalMs: o.sampleIntervalMs,
      gatewayPid: gateway.pid,
      samples: sampler.samples,
      verdict,
      load: {
        ratePerSecond: o.ratePerSecond,
        tunnels: result.started,
        completed: result.completed,
        skipped: result.skipped,
        errors: result.errors,
        errorKinds: result.errorKinds,
      },
      gatewayCounters: counters,
      summary,
    };
  } finally {
    sampler?.close();
    await gateway?.stop().catch(() => undefined);
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GET JSON without keep-alive, so asking the gateway leaves no connection (and fd) of ours open in it. */
function getJson(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url} answered ${res.statusCode}`));
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url} took longer than 5 s`)));
  });
}

/** The gateway's open fds once it reports no client connection and no tunnel (waits up to 10 s). */
async function quietFds(pid: number, adminUrl: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await getJson(`${adminUrl}/api/counters`);
    if ((Number(c.activeClientConnections) === 0 && Number(c.tunnelsActive) === 0) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Let the admin connection we just used close on the gateway's side too.
  await new Promise((r) => setTimeout(r, 100));
  return readProcessSample(pid).fds;
}
