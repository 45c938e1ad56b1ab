import { ManualClock } from '../../lib/clock.js';
import { ClientWindow } from '../counters/client-window.js';
import { DailyDistinctClients, nextResetAfter, parseResetTime } from '../counters/daily-distinct-clients.js';
import { LatencyHistogram } from '../counters/latency-histogram.js';
import { createGateway } from '../index.js';
import { connectRequest, rawRequest, startTcpEcho } from './support.js';

const T0 = Date.UTC(2016, 2, 1, 23, 58, 0); // 23:58 UTC

describe('daily Connected Client reset (2016 preview semantics)', () => {
  test('counts distinct IPs and clears them when the clock crosses the reset time, not before', async () => {
    const clock = new ManualClock(T0);
    const resets: number[] = [];
    const d = new DailyDistinctClients(clock, parseResetTime('00:00', 'reset'), (cleared) => resets.push(cleared));
    d.start();
    d.record('127.0.0.1');
    d.record('127.0.0.2');
    d.record('127.0.0.1');
    expect(d.count()).toBe(2);
    await clock.advance(119_999); // 23:59:59.999
    expect(d.count()).toBe(2);
    expect(resets).toEqual([]);
    await clock.advance(1); // midnight
    expect(resets).toEqual([2]);
    expect(d.count()).toBe(0);
    d.record('127.0.0.3');
    await clock.advance(24 * 3600_000 - 1);
    expect(d.count()).toBe(1);
    await clock.advance(1);
    expect(resets).toEqual([2, 1]);
    d.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  test('the reset time is configurable', async () => {
    const clock = new ManualClock(T0);
    const d = new DailyDistinctClients(clock, parseResetTime('06:30', 'reset'));
    d.start();
    d.record('10.0.0.1');
    await clock.advanceTo(Date.UTC(2016, 2, 2, 6, 29, 59));
    expect(d.count()).toBe(1);
    await clock.advanceTo(Date.UTC(2016, 2, 2, 6, 30, 0));
    expect(d.count()).toBe(0);
    expect(new Date(d.nextResetAt).toISOString()).toBe('2016-03-03T06:30:00.000Z');
    d.stop();
  });

  test('reset time validation and next reset computation', () => {
    expect(() => parseResetTime('24:00', '--reset-time')).toThrow(/--reset-time must be a UTC time of day "HH:MM"/);
    expect(() => parseResetTime('7:00', 'x')).toThrow(/HH:MM/);
    expect(nextResetAfter(Date.UTC(2016, 0, 1, 0, 0), 0)).toBe(Date.UTC(2016, 0, 2));
    expect(nextResetAfter(Date.UTC(2016, 0, 1, 5, 0), 6 * 60)).toBe(Date.UTC(2016, 0, 1, 6, 0));
  });

  test('in a running gateway, with an injected ManualClock', async () => {
    const echo = await startTcpEcho();
    const clock = new ManualClock(T0);
    const gw = createGateway({ listenPort: 0, adminPort: null, allowlist: ['a.example.test'], hostMap: [`a.example.test=127.0.0.1:${echo.port}`], tlsInspection: false, clock });
    await gw.start();
    for (const localAddress of ['127.0.0.21', '127.0.0.22', '127.0.0.23']) {
      const r = await rawRequest(gw.proxyAddress.port, connectRequest('a.example.test:443'), { localAddress });
      expect(r.status).toBe(200);
      r.socket.destroy();
    }
    expect(gw.counters.snapshot().connectedClients).toBe(3);
    await clock.advance(60_000);
    expect(gw.counters.snapshot().connectedClients).toBe(3);
    await clock.advance(60_000);
    expect(gw.counters.snapshot()).toMatchObject({ connectedClients: 0, connectedClientsLastReset: '2016-03-02T00:00:00.000Z' });
    expect(gw.events.list({ ids: [100] }).some((e) => /Connected Client counter reset .* 3 client/.test(e.message))).toBe(true);
    await gw.close();
    await echo.close();
  });
});

describe('sliding-window connected clients', () => {
  test('counts clients open now or seen within the window', async () => {
    const clock = new ManualClock(T0);
    const w = new ClientWindow(clock, 15 * 60_000);
    w.connected('a');
    w.connected('b');
    w.disconnected('b');
    expect(w.count()).toBe(2);
    await clock.advance(15 * 60_000);
    expect(w.count()).toBe(2);
    await clock.advance(1);
    expect(w.count()).toBe(1); // b left more than 15 min ago; a is still connected
    w.disconnected('a');
    await clock.advance(15 * 60_000 + 1);
    expect(w.count()).toBe(0);
  });
});

describe('upstream connect latency histogram', () => {
  test('cumulative buckets, count, sum and max', () => {
    const h = new LatencyHistogram();
    [0.5, 3, 3, 40, 20_000].forEach((ms) => h.observe(ms));
    const s = h.snapshot();
    expect(s).toMatchObject({ count: 5, maxMs: 20_000 });
    expect(s.sumMs).toBeCloseTo(20_046.5);
    expect(s.buckets['1']).toBe(1);
    expect(s.buckets['5']).toBe(3);
    expect(s.buckets['50']).toBe(4);
    expect(s.buckets['10000']).toBe(4);
    expect(s.buckets['+Inf']).toBe(5);
  });
});
