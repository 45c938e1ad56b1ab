import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateBenchCerts, type BenchCerts } from '../certs.js';
import { BenchUpstream } from '../upstream/server.js';
import { NaiveConnectProxy } from '../../bench/peers/naive-proxy.js';
import { TunnelDriver, runDriver } from '../driver/run.js';
import type { DriverOptions } from '../driver/types.js';
import { isInputError } from '../../lib/errors.js';

let dir: string;
let certs: BenchCerts;
let upstream: BenchUpstream;
let proxy: NaiveConnectProxy;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-driver-test-'));
  certs = generateBenchCerts(dir);
  upstream = new BenchUpstream({ cert: certs.serverCert, key: certs.serverKey, requestCert: true });
  await upstream.start();
  proxy = new NaiveConnectProxy({ host: '127.0.0.1', port: upstream.port }, ['forbidden.example.com']);
  await proxy.start();
});

afterAll(async () => {
  await proxy.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

function base(over: Partial<DriverOptions>): DriverOptions {
  return {
    mode: 'keepalive',
    proxy: { host: '127.0.0.1', port: proxy.port },
    target: { host: 'bench.oms.opinsights.azure.com', port: 443 },
    tls: { ca: certs.serverCert, cert: certs.clientCert, key: certs.clientKey, skipHostnameCheck: true },
    connections: 3,
    durationMs: 20_000,
    sampleIntervalMs: 50,
    ...over,
  };
}

test('keepalive: many requests over few tunnels, all counted, nothing left open', async () => {
  const before = proxy.connects;
  const r = await runDriver(base({ mode: 'keepalive', connections: 3, maxRequests: 60, localAddresses: ['127.0.0.2', '127.0.0.3'] }));
  expect(r.requests).toBe(60);
  expect(r.errorTotal).toBe(0);
  expect(r.tunnelsEstablished).toBe(3);
  expect(proxy.connects - before).toBe(3);
  expect(r.connectStatuses).toEqual({ '200': 3 });
  expect(r.latency.count).toBe(60);
  expect(r.latency.p99).toBeGreaterThan(0);
  expect(r.maxOpen).toBe(3);
  expect(r.samples[r.samples.length - 1].open).toBe(0);
  expect(r.sourceAddresses).toEqual(['127.0.0.2', '127.0.0.3']);
});

test('churn: a new CONNECT and TLS handshake per request', async () => {
  const before = proxy.connects;
  const r = await runDriver(base({ mode: 'churn', connections: 2, maxRequests: 10 }));
  expect(r.requests).toBe(10);
  expect(r.tunnelsEstablished).toBe(10);
  expect(proxy.connects - before).toBe(10);
  expect(r.errorTotal).toBe(0);
});

test('bulk: body bytes are counted', async () => {
  const r = await runDriver(base({ mode: 'bulk', connections: 2, maxRequests: 4, bulkBytes: 300_000 }));
  expect(r.requests).toBe(4);
  expect(r.bytesReceived).toBe(1_200_000);
  expect(r.mbPerSec).toBeGreaterThan(0);
});

test('idle: holds N tunnels until stopped, reporting the open count', async () => {
  let readyOpen = -1;
  const driver = new TunnelDriver(base({ mode: 'idle', connections: 20 }), {
    onIdleReady: (open: number) => {
      readyOpen = open;
      driver.stop();
    },
  });
  const r = await driver.run();
  expect(readyOpen).toBe(20);
  expect(r.tunnelsEstablished).toBe(20);
  expect(r.maxOpen).toBe(20);
  expect(r.errorTotal).toBe(0);
});

test('idle with holdUntilReleased: the tunnels outlive durationMs until release(), then the hold ends', async () => {
  const { ManualClock } = await import('../../lib/clock.js');
  const clock = new ManualClock();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const driver = new TunnelDriver(base({ mode: 'idle', connections: 5, durationMs: 1000, holdUntilReleased: true }), { clock, onIdleReady: () => ready() });
  let finished = false;
  const done = driver.run().then((r) => {
    finished = true;
    return r;
  });
  await isReady;
  await clock.advance(5000); // five times durationMs: without a release the tunnels stay
  expect(finished).toBe(false);
  expect(driver.openNow()).toBe(5);
  driver.release();
  const r = await done;
  expect(r.tunnelsEstablished).toBe(5);
  expect(r.errorTotal).toBe(0);
});

test('CONNECT refusals are counted by status and source', async () => {
  const r = await runDriver(base({ mode: 'churn', connections: 1, maxRequests: 3, target: { host: 'forbidden.example.com', port: 443 } }));
  expect(r.errors).toEqual({ connect_403: 3 });
  expect(r.connectStatuses).toEqual({ '403': 3 });
  expect(r.requests).toBe(0);
});

test('a closed port is an error of its kind, not a hang', async () => {
  const r = await runDriver(base({ mode: 'churn', connections: 1, maxRequests: 2, proxy: { host: '127.0.0.1', port: 1 } }));
  expect(r.errors).toEqual({ econnrefused: 2 });
});

test('direct mode (no proxy) reaches the upstream itself', async () => {
  const r = await runDriver(base({ proxy: undefined, direct: { host: '127.0.0.1', port: upstream.port }, connections: 2, maxRequests: 10 }));
  expect(r.requests).toBe(10);
  expect(r.connectStatuses).toEqual({});
});

test('refuses non-loopback proxies and targets', () => {
  const bad = [
    () => new TunnelDriver(base({ proxy: { host: '10.1.2.3', port: 3128 } })),
    () => new TunnelDriver(base({ target: { host: '8.8.8.8', port: 443 } })),
    () => new TunnelDriver(base({ proxy: undefined, direct: { host: 'example.com', port: 443 } })),
    () => new TunnelDriver(base({ localAddresses: ['192.168.1.4'] })),
  ];
  for (const make of bad) {
    let err: unknown;
    try {
      make();
    } catch (e) {
      err = e;
    }
    expect(isInputError(err)).toBe(true);
  }
});

test('a rate cap spaces requests out (counted on the clock, not asserted as a timing)', async () => {
  const { ManualClock } = await import('../../lib/clock.js');
  const clock = new ManualClock();
  const driver = new TunnelDriver(base({ connections: 2, maxRequests: 6, ratePerSec: 10 }), { clock });
  const done = driver.run();
  // At 10/s over 2 connections only the first request may start before the clock moves.
  // Poll with a deadline, not a fixed count of short sleeps: tunnel + TLS setup on a busy shared
  // machine can take longer than half a second.
  const until = async (cond: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  };
  await until(() => driver.requestsNow() >= 1);
  await new Promise((r) => setTimeout(r, 50));
  expect(driver.requestsNow()).toBe(1);
  for (let i = 0; i < 10; i++) {
    await clock.advance(100);
    await until(() => driver.requestsNow() >= Math.min(6, i + 2));
  }
  const r = await done;
  expect(r.requests).toBe(6);
});
