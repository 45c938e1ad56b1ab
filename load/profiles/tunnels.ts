import { expandSourceRange } from '../../harness/driver/loopback.js';
import { spawnDriver, type SpawnedDriver } from '../../harness/driver/spawn.js';
import type { DriverResult } from '../../harness/driver/types.js';
import type { LoadOptions } from '../options.js';
import type { ProbePacer } from '../probes.js';
import type { LoadSampler } from '../sampler.js';
import { DRIVER_HOST, type LoadTargets } from '../targets.js';

/**
 * The churn, keepalive and idle profiles: the tunnel driver in its own process against the bench
 * upstream. Idle adds a quiescent point once every tunnel is open (the gateway must count them all).
 */
export async function runTunnelProfile(o: LoadOptions, t: LoadTargets, sampler: LoadSampler, probes: ProbePacer, started: (driver: SpawnedDriver) => void): Promise<DriverResult> {
  const localAddresses = expandSourceRange('127.11.0.0/16').slice(0, Math.min(o.count, 1000));
  const driver = spawnDriver(
    {
      mode: o.profile as 'churn' | 'keepalive' | 'idle',
      proxy: t.proxy,
      target: { host: DRIVER_HOST, port: 443 },
      tls: { ...t.driverTls!, servername: DRIVER_HOST, skipHostnameCheck: true },
      connections: o.count,
      durationMs: o.durationMs,
      openConcurrency: o.concurrency,
      localAddresses,
      sampleIntervalMs: 500,
      bodyBytes: 256,
      holdUntilReleased: o.profile === 'idle',
    },
    {
      onSample: (s) => {
        sampler.driverSample = s;
        sampler.requests = s.requests;
      },
    },
  );
  started(driver);
  if (o.profile === 'idle') {
    // The driver sends a sample right before idle-ready (IPC keeps the order), and holds every tunnel
    // until release(): the point sees them all open however long reading the counters takes.
    await driver.idleReady;
    await probes.pause();
    await sampler.point(true, 'all tunnels open');
    driver.release();
    probes.resume();
  }
  const result = await driver.result;
  sampler.driverResult = result;
  sampler.driverSample = result.samples[result.samples.length - 1] ?? sampler.driverSample;
  sampler.requests = result.requests;
  for (const [k, v] of Object.entries(result.errors)) sampler.errorsByKind[`driver_${k}`] = v;
  return result;
}
