import { expandSourceRange } from '../harness/driver/loopback.js';
import { spawnDriver } from '../harness/driver/spawn.js';
import type { DriverOptions, DriverResult } from '../harness/driver/types.js';
import type { BenchCerts } from '../harness/certs.js';
import type { RunningPeer } from './peers/index.js';
import { rssBytes } from './proc.js';

export interface BenchProfile {
  quick: boolean;
  /** Throughput workloads run this many times per peer (interleaved); the best run counts, to damp noise from a shared machine. */
  repeats: number;
  keepaliveMs: number;
  churnMs: number;
  bulkMs: number;
  idleCounts: number[];
  agentLadder: number[];
  agentRunMs: number;
  /** Sizing profile: bytes per upload and seconds between uploads per agent. */
  agentBytes: number;
  agentIntervalMs: number;
}

export const QUICK: BenchProfile = {
  quick: true,
  repeats: 1,
  keepaliveMs: 2000,
  churnMs: 2000,
  bulkMs: 1500,
  idleCounts: [1000],
  agentLadder: [600],
  agentRunMs: 7000,
  agentBytes: 200 * 1024,
  agentIntervalMs: 6000,
};

export const FULL: BenchProfile = {
  quick: false,
  repeats: 2,
  keepaliveMs: 10_000,
  churnMs: 8000,
  bulkMs: 6000,
  idleCounts: [1000, 8000],
  agentLadder: [600, 1000, 2000, 3000],
  agentRunMs: 15_000,
  agentBytes: 200 * 1024,
  agentIntervalMs: 6000,
};

export interface KeepaliveMetrics {
  reqPerSec: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  errors: number;
  errorKinds: Record<string, number>;
}
export interface IdleMetrics {
  tunnels: number;
  open: number;
  errors: number;
  errorKinds: Record<string, number>;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerTunnel: number;
}
export interface CapacityStep {
  agents: number;
  expectedRequests: number;
  requests: number;
  errors: number;
  errorKinds: Record<string, number>;
  p99Us: number;
  ok: boolean;
}

function driverBase(peer: RunningPeer, certs: BenchCerts, benchHost: string): Omit<DriverOptions, 'mode' | 'connections' | 'durationMs'> {
  return {
    proxy: peer.proxy,
    target: peer.target,
    direct: peer.direct,
    tls: { ca: certs.serverCert, cert: certs.clientCert, key: certs.clientKey, servername: benchHost, skipHostnameCheck: true },
    timeoutMs: 15_000,
    sampleIntervalMs: 1000,
  };
}

function toKeepalive(r: DriverResult, perSec: number): KeepaliveMetrics {
  return { reqPerSec: perSec, p50Us: r.latency.p50, p90Us: r.latency.p90, p99Us: r.latency.p99, maxUs: r.latency.max, errors: r.errorTotal, errorKinds: r.errors };
}

export interface WorkloadEnv {
  certs: BenchCerts;
  benchHost: string;
  driverExecArgv?: string[];
}

/** Kept-alive tunnelled requests: 50 connections, as fast as they go (or at `ratePerSec`). */
export async function keepalive(peer: RunningPeer, env: WorkloadEnv, durationMs: number, ratePerSec?: number): Promise<KeepaliveMetrics> {
  const r = await spawnDriver({ ...driverBase(peer, env.certs, env.benchHost), mode: 'keepalive', connections: 50, durationMs, ratePerSec, bodyBytes: 64 }, { execArgv: env.driverExecArgv }).result;
  return toKeepalive(r, r.requestsPerSec);
}

/** A new CONNECT + TLS handshake per request, 32 concurrent loops. */
export async function churn(peer: RunningPeer, env: WorkloadEnv, durationMs: number): Promise<KeepaliveMetrics> {
  const r = await spawnDriver({ ...driverBase(peer, env.certs, env.benchHost), mode: 'churn', connections: 32, durationMs, bodyBytes: 64 }, { execArgv: env.driverExecArgv }).result;
  return toKeepalive(r, r.requestsPerSec);
}

/** Bulk download through `tunnels` tunnels; MB/s. */
export async function bulk(peer: RunningPeer, env: WorkloadEnv, tunnels: number, durationMs: number): Promise<{ mbPerSec: number; errors: number; errorKinds: Record<string, number> }> {
  const bulkBytes = tunnels === 1 ? 16 * 1024 * 1024 : 1024 * 1024;
  const r = await spawnDriver({ ...driverBase(peer, env.certs, env.benchHost), mode: 'bulk', connections: tunnels, durationMs, bulkBytes }, { execArgv: env.driverExecArgv }).result;
  return { mbPerSec: r.mbPerSec, errors: r.errorTotal, errorKinds: r.errors };
}

/** Opens `count` tunnels (TLS done), reads the proxy's RSS before and after, releases them. */
export async function idleMemory(peer: RunningPeer, env: WorkloadEnv, count: number): Promise<IdleMetrics> {
  if (!peer.pid) throw new Error(`${peer.name} has no proxy process to measure`);
  await settle(1000);
  const rssBefore = rssBytes(peer.pid);
  const d = spawnDriver(
    { ...driverBase(peer, env.certs, env.benchHost), mode: 'idle', connections: count, durationMs: 300_000, openConcurrency: 200, localAddresses: expandSourceRange('127.3.0.0/20') },
    { execArgv: env.driverExecArgv },
  );
  let open = 0;
  let rssAfter = rssBefore;
  try {
    open = await d.idleReady;
    await settle();
    rssAfter = rssBytes(peer.pid);
  } finally {
    d.stop();
  }
  const r = await d.result;
  return {
    tunnels: count,
    open,
    errors: r.errorTotal,
    errorKinds: r.errors,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    bytesPerTunnel: open > 0 ? Math.round((rssAfter - rssBefore) / open) : 0,
  };
}

/**
 * Connected-agents capacity at the sizing profile: each agent is its own tunnel from its own
 * 127.x address (TLS with a client certificate), uploading `agentBytes` every `agentIntervalMs`.
 * A step passes with zero errors, at least 95 % of the expected uploads done, and p99 below the interval.
 */
export async function agentCapacity(peer: RunningPeer, env: WorkloadEnv, p: BenchProfile): Promise<{ steps: CapacityStep[]; sustained: number }> {
  const steps: CapacityStep[] = [];
  let sustained = 0;
  const sources = expandSourceRange('127.4.0.0/20');
  for (const agents of p.agentLadder) {
    const ratePerSec = agents / (p.agentIntervalMs / 1000);
    const r = await spawnDriver(
      {
        ...driverBase(peer, env.certs, env.benchHost),
        mode: 'keepalive',
        connections: agents,
        durationMs: p.agentRunMs,
        ratePerSec,
        bodyBytes: p.agentBytes,
        localAddresses: sources.slice(0, agents),
        timeoutMs: p.agentIntervalMs * 2,
      },
      { execArgv: env.driverExecArgv },
    ).result;
    // Uploads due within the run window (the pacing schedule starts at the driver's start).
    const expected = Math.floor((ratePerSec * p.agentRunMs) / 1000);
    const ok = r.errorTotal === 0 && r.requests >= expected * 0.95 && r.latency.p99 < p.agentIntervalMs * 1000;
    steps.push({ agents, expectedRequests: expected, requests: r.requests, errors: r.errorTotal, errorKinds: r.errors, p99Us: r.latency.p99, ok });
    await settle(1000);
    if (!ok) break;
    sustained = agents;
  }
  return { steps, sustained };
}

function settle(ms = 500): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
