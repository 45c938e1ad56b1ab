import { cpus, loadavg, tmpdir } from 'node:os';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lib/paths.js';
import { InputError } from '../lib/errors.js';
import { generateBenchCerts } from '../harness/certs.js';
import { spawnReady, type ReadyChild } from '../harness/child.js';
import { ALL_PEERS, type BenchContext, type RunningPeer } from './peers/index.js';
import { ensureDebianPackages } from './peers/install.js';
import * as w from './workloads.js';
import { consoleCost, type ConsoleCostMetrics } from './consoles.js';
import { simulatorCost, type SimulatorMetrics } from './simulator.js';

export interface BenchOptions {
  quick: boolean;
  /** Peer names to run (default all). */
  peers?: string[];
  /** Workload names to run (default all). */
  workloads?: string[];
  /** Tunnel counts for the idle workload (default: the profile's, 1,000 and 8,000; --quick 1,000). */
  idleCounts?: number[];
  install: boolean;
  /** node flags for the omsgw gateway process, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  gatewayExecArgv?: string[];
  log: (msg: string) => void;
  /** Installs the peers' Debian packages, returning why each failed (tests replace it; default apt-get). */
  ensurePackages?: typeof ensureDebianPackages;
}

export const WORKLOADS = ['keepalive', 'halfload', 'churn', 'bulk1', 'bulk100', 'idle', 'agents', 'consoles', 'simulator'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface PeerStatus {
  name: string;
  description: string;
  status: 'ok' | 'skipped';
  reason?: string;
}

export interface BenchResults {
  version: 1;
  date: string;
  quick: boolean;
  /** loadavg: 1-minute load average at the start and end (the machine may be shared; high values mean noisy numbers). */
  machine: { cpus: number; model: string; node: string; platform: string; loadavgStart: number; loadavgEnd: number };
  notes: string[];
  peers: PeerStatus[];
  keepalive: Record<string, w.KeepaliveMetrics>;
  halfload: { ratePerSec: number; byPeer: Record<string, w.KeepaliveMetrics> } | null;
  churn: Record<string, w.KeepaliveMetrics>;
  bulk1: Record<string, { mbPerSec: number; errors: number; errorKinds: Record<string, number> }>;
  bulk100: Record<string, { mbPerSec: number; errors: number; errorKinds: Record<string, number> }>;
  idle: Record<string, Record<string, w.IdleMetrics>>;
  agents: Record<string, { steps: w.CapacityStep[]; sustained: number }>;
  /** Kept-alive req/s on omsgw without and with ten web consoles open (absent in older results). */
  consoles?: Record<string, ConsoleCostMetrics>;
  /** The simulator's CPU per agent cycle (workload simulator): 100 agents in one process. */
  simulator?: SimulatorMetrics;
  /** The same at the sizing profile's scale: 600 agents in two agent processes (workload simulator). */
  simulatorAtScale?: SimulatorMetrics;
  errors: Array<{ peer: string; workload: string; message: string }>;
  durationMs: number;
}

export const BENCH_HOST = 'bench.oms.opinsights.azure.com';
/** File descriptors each proxy process may hold in the bench (squid's max_filedescriptors; docs/load-and-bench.md). */
const PEER_FD_LIMIT = 20_000;
/** Most idle tunnels: two sockets each in the proxy, with room for the listening and log descriptors. */
export const MAX_IDLE_TUNNELS = 9000;

/** `--idle-tunnels 1000,4000` → [1000, 4000]; InputError naming the bad value otherwise. */
export function parseIdleTunnels(values: readonly string[]): number[] {
  if (values.length === 0) throw new InputError('--idle-tunnels names no count; give tunnel counts like 1000,4000');
  return values.map((v) => {
    const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!(n >= 1 && n <= MAX_IDLE_TUNNELS)) {
      throw new InputError(`--idle-tunnels count must be a whole number from 1 to ${MAX_IDLE_TUNNELS} (each tunnel is two of the ${PEER_FD_LIMIT} file descriptors a proxy may hold), got ${JSON.stringify(v)}`);
    }
    return n;
  });
}

/** Runs every workload against every peer that starts, all as separate processes. */
export async function runBench(o: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const profile = o.quick ? w.QUICK : w.FULL;
  // Quick mode leaves the naive Node proxy out (a reference point, not a peer users would pick) to stay under two minutes.
  const peerSpecs = ALL_PEERS.filter((p) => (o.peers ? o.peers.includes(p.name) : !o.quick || p.name !== 'naive-node'));
  if (o.peers?.length === 0) throw new InputError(`--peers names no peer; choose from ${ALL_PEERS.map((p) => p.name).join(', ')}`);
  if (o.workloads?.length === 0) throw new InputError(`--workloads names no workload; choose from ${WORKLOADS.join(', ')}`);
  if (o.peers) for (const n of o.peers) if (!ALL_PEERS.some((p) => p.name === n)) throw new InputError(`unknown peer "${n}"; choose from ${ALL_PEERS.map((p) => p.name).join(', ')}`);
  if (o.idleCounts) parseIdleTunnels(o.idleCounts.map(String));
  const idleCounts = o.idleCounts ?? profile.idleCounts;
  const workloads = new Set<string>(o.workloads ?? WORKLOADS);
  for (const n of workloads) if (!(WORKLOADS as readonly string[]).includes(n)) throw new InputError(`unknown workload "${n}"; choose from ${WORKLOADS.join(', ')}`);

  const results: BenchResults = {
    version: 1,
    date: new Date().toISOString(),
    quick: o.quick,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform, loadavgStart: loadavg()[0], loadavgEnd: 0 },
    notes: [
      `driver, gateway, peers and upstream run as separate processes on loopback; the driver speaks CONNECT + TLS 1.2 (client certificate) + HTTP/1.1 keep-alive`,
      `omsgw gets CONNECT ${BENCH_HOST}:443 and maps it with --host-map; squid and tinyproxy have no host map, so they get CONNECT 127.0.0.1:<upstreamPort> (no DNS in either case); SNI is ${BENCH_HOST} for all`,
    ],
    peers: [],
    keepalive: {},
    halfload: null,
    churn: {},
    bulk1: {},
    bulk100: {},
    idle: {},
    agents: {},
    errors: [],
    durationMs: 0,
  };

  // Why a peer's package could not be installed: the report gives this as the reason it was skipped.
  let installFailures: Record<string, string> = {};
  if (o.install) {
    installFailures = (o.ensurePackages ?? ensureDebianPackages)(peerSpecs.flatMap((p) => (p.debianPackage ? [p.debianPackage] : [])), o.log);
    for (const [pkg, reason] of Object.entries(installFailures)) o.log(`peer package ${pkg} unavailable: ${reason}`);
  }

  const workDir = mkdtempSync(join(tmpdir(), 'omsgw-bench-'));
  // squid and tinyproxy drop root privileges and must reach their folders below this one.
  chmodSync(workDir, 0o755);
  const certs = generateBenchCerts(join(workDir, 'certs'));
  let upstream: ReadyChild<{ port: number; pid: number }> | undefined;
  const running: RunningPeer[] = [];
  try {
    upstream = await spawnReady(process.execPath, [join(packageRoot(), 'dist', 'harness', 'upstream', 'main.js'), certs.files.serverCert, certs.files.serverKey], {
      prefix: 'omsgw-bench-upstream-ready',
    });
    const ctx: BenchContext = {
      upstreamPort: upstream.info.port,
      upstreamPid: upstream.pid,
      benchHost: BENCH_HOST,
      workDir,
      certs,
      log: o.log,
      gatewayExecArgv: o.gatewayExecArgv ?? [],
    };
    for (const spec of peerSpecs) {
      const installFailure = spec.debianPackage && installFailures[spec.debianPackage.pkg];
      if (installFailure) {
        results.peers.push({ name: spec.name, description: spec.description, status: 'skipped', reason: installFailure });
        o.log(`peer ${spec.name} skipped: ${installFailure}`);
        continue;
      }
      try {
        running.push(await spec.start(ctx));
        results.peers.push({ name: spec.name, description: spec.description, status: 'ok' });
        o.log(`peer ${spec.name} started`);
      } catch (err) {
        results.peers.push({ name: spec.name, description: spec.description, status: 'skipped', reason: (err as Error).message.split('\n')[0] });
        o.log(`peer ${spec.name} skipped: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const env: w.WorkloadEnv = { certs, benchHost: BENCH_HOST };
    const proxies = running.filter((p) => p.proxy);
    const attempt = async <T>(peer: RunningPeer, workload: string, fn: () => Promise<T>): Promise<T | undefined> => {
      o.log(`${workload}: ${peer.name} ...`);
      try {
        return await fn();
      } catch (err) {
        results.errors.push({ peer: peer.name, workload, message: (err as Error).message });
        o.log(`${workload}: ${peer.name} failed: ${(err as Error).message}`);
        return undefined;
      }
    };

    /**
     * Throughput workloads run `profile.repeats` rounds; each round visits every peer in turn
     * (interleaved, so a busy moment on the shared machine hits everyone alike) and the best
     * round per peer counts.
     */
    const rounds = async <T>(workload: string, fn: (peer: RunningPeer) => Promise<T>, score: (v: T) => number): Promise<Record<string, T>> => {
      const out: Record<string, T> = {};
      for (let i = 0; i < profile.repeats; i++) {
        for (const peer of running) {
          const v = await attempt(peer, workload, () => fn(peer));
          if (v !== undefined && (out[peer.name] === undefined || score(v) > score(out[peer.name]))) out[peer.name] = v;
        }
      }
      return out;
    };
    // Warm-up, not recorded: Node peers (and the Node upstream) start cold and JIT-compile their hot
    // paths during the first seconds of load; C peers do not, so without this the first Node peer
    // measured pays for everyone's warm-up.
    for (const peer of running) {
      await attempt(peer, 'warm-up', async () => {
        const scale = o.quick ? 0.5 : 1;
        await w.keepalive(peer, env, 1000 * scale);
        await w.churn(peer, env, 500 * scale);
        await w.bulk(peer, env, 4, 500 * scale);
      });
    }
    if (workloads.has('keepalive')) results.keepalive = await rounds('keepalive', (p) => w.keepalive(p, env, profile.keepaliveMs), (v) => v.reqPerSec);
    if (workloads.has('halfload')) {
      // Half of omsgw's (inspection on) kept-alive rate, the same rate for everyone, so the
      // difference to direct's p99 is the latency a proxy adds at that load.
      const full = results.keepalive['omsgw']?.reqPerSec ?? results.keepalive[running[0]?.name ?? '']?.reqPerSec;
      if (full) {
        const ratePerSec = Math.max(1, Math.round(full / 2));
        results.halfload = { ratePerSec, byPeer: await rounds('halfload', (p) => w.keepalive(p, env, profile.keepaliveMs, ratePerSec), (v) => -v.p99Us) };
      }
    }
    if (workloads.has('churn')) results.churn = await rounds('churn', (p) => w.churn(p, env, profile.churnMs), (v) => v.reqPerSec);
    if (workloads.has('bulk1')) results.bulk1 = await rounds('bulk1', (p) => w.bulk(p, env, 1, profile.bulkMs), (v) => v.mbPerSec);
    if (workloads.has('bulk100')) results.bulk100 = await rounds('bulk100', (p) => w.bulk(p, env, 100, profile.bulkMs), (v) => v.mbPerSec);
    if (workloads.has('idle')) {
      // Each measurement gets a fresh proxy process, so garbage from earlier workloads (and the
      // collector returning it) does not move the baseline.
      for (const count of idleCounts) {
        for (const spec of peerSpecs) {
          if (spec.name === 'direct' || !running.some((p) => p.name === spec.name)) continue;
          let fresh: RunningPeer | undefined;
          const m = await attempt({ name: spec.name } as RunningPeer, `idle${count}`, async () => {
            fresh = await spec.start(ctx);
            return w.idleMemory(fresh, env, count);
          });
          await fresh?.stop().catch(() => undefined);
          if (m) (results.idle[spec.name] ??= {})[String(count)] = m;
        }
      }
    }
    if (workloads.has('agents')) {
      // Quick mode checks the documented capacity on omsgw only; the full run climbs the ladder for
      // omsgw and the real peers (squid, tinyproxy).
      const targets = proxies.filter((p) => (o.quick ? p.name === 'omsgw' : ['omsgw', 'squid', 'tinyproxy'].includes(p.name)));
      for (const peer of targets) {
        const m = await attempt(peer, 'agents', () => w.agentCapacity(peer, env, profile));
        if (m) results.agents[peer.name] = m;
      }
    }
    if (workloads.has('consoles')) {
      results.consoles = {};
      for (const peer of proxies.filter((p) => p.name === 'omsgw')) {
        const m = await attempt(peer, 'consoles', () => consoleCost(peer, env, profile.keepaliveMs, profile.repeats));
        if (m) {
          results.consoles[peer.name] = m;
          results.notes.push(`consoles: kept-alive ${Math.round(m.withoutConsoles.reqPerSec)} req/s without, ${Math.round(m.withConsoles.reqPerSec)} req/s with ${m.consoles} web consoles open (${m.costPercent}% cost; target < 5 %)`);
          o.log(results.notes[results.notes.length - 1]);
        }
      }
    }
    if (workloads.has('simulator')) {
      const m = await attempt({ name: 'simulator' } as RunningPeer, 'simulator', () => simulatorCost(o.quick ? 60 : 100, o.quick ? 12_000 : 30_000));
      if (m) results.simulator = m;
      // At the sizing profile's scale for this machine: 600 agents (300 quick) at --speed 1, spread
      // over two agent processes with every agent free to run at once, as `omsgw load` is run for it.
      const scale = await attempt({ name: 'simulator' } as RunningPeer, 'simulator', () => simulatorCost(o.quick ? 300 : 600, o.quick ? 12_000 : 36_000, { processes: 2, concurrency: o.quick ? 300 : 600 }));
      if (scale) results.simulatorAtScale = scale;
    }
  } finally {
    for (const p of running) await p.stop().catch(() => undefined);
    await upstream?.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
  results.durationMs = Date.now() - started;
  results.machine.loadavgEnd = loadavg()[0];
  return results;
}
