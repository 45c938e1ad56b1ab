import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateBenchCerts } from '../bench/certs.js';
import { BenchUpstream } from '../bench/upstream/server.js';
import { spawnGateway } from '../gateway/process.js';
import { spawnDriver } from '../load/driver/spawn.js';
import type { DriverResult } from '../load/driver/types.js';
import { InputError } from '../lib/errors.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { ProcessSampler, judgeFlatness, mb, type FlatnessLimits, type FlatnessVerdict, type ProcessSample } from './soak-sampler.js';

/**
 * Soak: run a gateway child process under steady, moderate tunnel churn (a new CONNECT and TLS
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
  /** Concurrent tunnel loops of the load driver (default 2: moderate on shared cores). */
  connections?: number;
  /** 'churn' (default): new tunnel per request; 'keepalive': long tunnels, many requests. */
  mode?: 'churn' | 'keepalive';
  /** Override the flatness limits (defaults: 16 MB or 15% RSS growth, 4 fds). */
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
  load: { mode: string; connections: number; requests: number; tunnels: number; errors: number; requestsPerSec: number; errorKinds: Record<string, number> };
  /** The gateway's own counters at the end, from its management API. */
  gatewayCounters: Record<string, unknown>;
  /** One line for humans. */
  summary: string;
}

const SOAK_HOST = 'soak.oms.opinsights.azure.com';

export function validateSoakOptions(o: SoakOptions): Required<Pick<SoakOptions, 'durationMs' | 'warmupMs' | 'sampleIntervalMs' | 'connections' | 'mode'>> {
  if (!Number.isFinite(o.durationMs) || o.durationMs < 10_000) throw new InputError(`soak duration must be at least 10s, got ${o.durationMs} ms`);
  if (o.durationMs > 7 * 24 * 3_600_000) throw new InputError('soak duration must be at most 7 days');
  const warmupMs = o.warmupMs ?? Math.min(Math.round(o.durationMs * 0.2), 5 * 60_000);
  if (!(warmupMs >= 0 && warmupMs < o.durationMs * 0.8)) throw new InputError(`soak warm-up (${warmupMs} ms) must leave at least 20% of the run for measuring`);
  const sampleIntervalMs = o.sampleIntervalMs ?? Math.min(10_000, Math.max(250, Math.round(o.durationMs / 120)));
  if (!(sampleIntervalMs >= 50)) throw new InputError(`soak sample interval must be at least 50 ms, got ${sampleIntervalMs}`);
  const connections = o.connections ?? 2;
  if (!Number.isInteger(connections) || connections < 1 || connections > 256) throw new InputError(`soak connections must be 1-256, got ${connections}`);
  const mode = o.mode ?? 'churn';
  if (mode !== 'churn' && mode !== 'keepalive') throw new InputError(`soak mode must be churn or keepalive, got ${String(mode)}`);
  return { durationMs: o.durationMs, warmupMs, sampleIntervalMs, connections, mode };
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
      eventRingSize: 2000,
    };
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify(config, null, 2));
    gateway = await spawnGateway(['--config', join(dir, 'gateway.json')], { cwd: dir });
    sampler = new ProcessSampler(gateway.pid, o.sampleIntervalMs, clock, options.onSample);
    sampler.start();
    const driver = spawnDriver({
      mode: o.mode,
      proxy: { host: '127.0.0.1', port: gateway.proxyPort },
      target: { host: SOAK_HOST, port: 443 },
      tls: { ca: certs.serverCert, cert: certs.clientCert, key: certs.clientKey, skipHostnameCheck: true },
      connections: o.connections,
      durationMs: o.durationMs,
      sampleIntervalMs: Math.max(1000, o.sampleIntervalMs),
    });
    const result: DriverResult = await driver.result;
    sampler.sampleNow();
    sampler.close();
    const counters = await fetchJson(`${gateway.adminUrl}/api/counters`);
    const verdict = judgeFlatness(sampler.samples, {
      warmupMs: o.warmupMs,
      maxRssGrowthBytes: options.limits?.maxRssGrowthBytes ?? 16 * 1024 * 1024,
      maxRssGrowthRatio: options.limits?.maxRssGrowthRatio ?? 0.15,
      maxFdGrowth: options.limits?.maxFdGrowth ?? 4,
      windowFraction: options.limits?.windowFraction,
      minSamples: options.limits?.minSamples,
    });
    const first = sampler.samples[0];
    const last = sampler.samples[sampler.samples.length - 1];
    const summary =
      `soak ${Math.round(o.durationMs / 1000)} s, ${result.requests} requests (${result.tunnelsEstablished} tunnels, ${result.errorTotal} errors): ` +
      `RSS ${mb(first?.rssBytes ?? 0)} → ${mb(last?.rssBytes ?? 0)} (after warm-up ${mb(verdict.rss.startBytes)} → ${mb(verdict.rss.endBytes)}), ` +
      `fds ${first?.fds ?? 0} → ${last?.fds ?? 0}: ${verdict.flat ? 'FLAT' : 'NOT FLAT: ' + verdict.reasons.join('; ')}`;
    return {
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      sampleIntervalMs: o.sampleIntervalMs,
      gatewayPid: gateway.pid,
      samples: sampler.samples,
      verdict,
      load: {
        mode: o.mode,
        connections: o.connections,
        requests: result.requests,
        tunnels: result.tunnelsEstablished,
        errors: result.errorTotal,
        requestsPerSec: result.requestsPerSec,
        errorKinds: result.errors,
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

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}
