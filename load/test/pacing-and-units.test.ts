import net from 'node:net';
import { ManualClock } from '../../lib/clock.js';
import { newHistogram, summarize } from '../../harness/driver/stats.js';
import { FORBIDDEN_HOST, ProbePacer } from '../probes.js';
import { formatLoadReport } from '../report/text.js';
import type { LoadReport } from '../report/types.js';

/** A loopback proxy that answers 403 to the forbidden host and 502 to anything else, counting each CONNECT. */
async function countingProxy(): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = net.createServer((s) => {
    s.once('data', (d) => {
      const target = /^CONNECT (\S+)/.exec(d.toString('latin1'))?.[1] ?? '?';
      seen.push(target);
      s.end(target.startsWith(FORBIDDEN_HOST) ? 'HTTP/1.1 403 Forbidden\r\n\r\n' : 'HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, seen, close: () => new Promise((r) => server.close(() => r())) };
}

test('--forbidden-rate 2 --error-rate 1 for 20 s sends exactly 40 and 20 CONNECTs spread over the run, also across a long pause at a quiescent point', async () => {
  const proxy = await countingProxy();
  const clock = new ManualClock(1_000_000);
  const pacer = new ProbePacer({ proxy: { host: '127.0.0.1', port: proxy.port }, forbiddenRate: 2, errorRate: 1, clock, now: () => clock.now() });
  try {
    pacer.start(20_000);
    const sentAt = (ms: number) => ({ forbidden: pacer.tally.forbiddenSent, error: pacer.tally.errorProbesSent, ms });
    await clock.advance(5000);
    expect(sentAt(5000)).toEqual({ forbidden: 10, error: 5, ms: 5000 });
    // Not only during bursts: a quiescent point pauses the probes, the time paused is made up after.
    await pacer.pause();
    await clock.advance(3000);
    expect(pacer.tally.forbiddenSent).toBe(10);
    pacer.resume();
    expect(sentAt(8000)).toEqual({ forbidden: 16, error: 8, ms: 8000 });
    await clock.advance(12_000);
    // The window ends at 20 s: nothing more is owed after it.
    await clock.advance(5000);
    await pacer.finish();
    expect(pacer.tally).toMatchObject({ forbiddenSent: 40, rejectionsCaused: 40, errorProbesSent: 20, errorsCaused: 20, unexpected: {} });
    expect(proxy.seen.filter((t) => t.startsWith(FORBIDDEN_HOST))).toHaveLength(40);
    expect(proxy.seen).toHaveLength(60);
  } finally {
    pacer.close();
    await proxy.close();
  }
});

test('a run that ends before the last tick still sends what its window owes (finish)', async () => {
  const proxy = await countingProxy();
  let now = 5000;
  const clock = new ManualClock(0);
  const pacer = new ProbePacer({ proxy: { host: '127.0.0.1', port: proxy.port }, forbiddenRate: 3, errorRate: 0, clock, now: () => now });
  try {
    pacer.start(1000);
    now += 1050; // the load ended; no tick ran in between
    await pacer.finish();
    expect(pacer.tally.forbiddenSent).toBe(3);
    expect(proxy.seen).toHaveLength(3);
  } finally {
    pacer.close();
    await proxy.close();
  }
});

test('latency summary: percentiles never exceed the max (an HDR bucket top can lie above every recorded value)', () => {
  const h = newHistogram();
  for (let i = 0; i < 100; i++) h.recordValue(123_457);
  // The raw bucket top is above the value recorded: this is what printed a p99 above the max.
  expect(h.getValueAtPercentile(99)).toBeGreaterThan(123_457);
  expect(summarize(h)).toMatchObject({ p50: 123_457, p90: 123_457, p99: 123_457, max: 123_457, count: 100 });
});

test('the text report prints latency in ms and says ms; the JSON keeps µs and says so', () => {
  const report = {
    profile: 'keepalive',
    durationMs: 2000,
    gateway: { kind: 'omsgw', proxy: { host: '127.0.0.1', port: 1 } },
    throughput: { requests: 3, loadMs: 2000, requestsPerSec: 1.5 },
    latency: { count: 3, p50: 1500, p90: 2500, p99: 12_345, max: 12_345, mean: 5000 },
    latencyUnit: 'µs',
    latencyMeasures: 'one request through the tunnel',
    errorsByKind: {},
    probes: { forbiddenSent: 0, rejectionsCaused: 0, errorProbesSent: 0, errorsCaused: 0, unexpected: {} },
    accuracy: null,
    checks: [{ what: 'latency', ok: true, detail: 'latency measured over 3 requests' }],
    ok: true,
    verdict: [],
    notChecked: [],
  } as unknown as LoadReport;
  const line = formatLoadReport(report).split('\n').find((l) => l.startsWith('latency'))!;
  expect(line).toBe('latency of one request through the tunnel: p50 1.50 ms, p90 2.50 ms, p99 12.35 ms, max 12.35 ms (n=3)');
  expect(line).not.toMatch(/µs/);
});
