import { openSync, closeSync } from 'node:fs';
import { ManualClock } from '../../lib/clock.js';
import { ProcessSampler, judgeFlatness, readProcessSample, slope, type ProcessSample } from '../soak-sampler.js';

const MB = 1024 * 1024;
const limits = { warmupMs: 10_000, maxRssGrowthBytes: 8 * MB, maxRssGrowthRatio: 0.1, maxFdGrowth: 3 };

function series(n: number, everyMs: number, rss: (i: number) => number, fds: (i: number) => number): ProcessSample[] {
  return Array.from({ length: n }, (_, i) => ({ atMs: i * everyMs, rssBytes: Math.round(rss(i)), fds: fds(i) }));
}

describe('soak flatness verdict', () => {
  it('calls a noisy but level series flat, ignoring warm-up growth', () => {
    // Warm-up climbs from 40 to 80 MB, then GC noise of +-5 MB around 80 MB.
    const s = series(60, 1000, (i) => (i < 10 ? 40 * MB + i * 4 * MB : 80 * MB + ((i * 7919) % 11) * MB - 5 * MB), (i) => (i < 10 ? 20 + i : 30 + (i % 3)));
    const v = judgeFlatness(s, limits);
    expect(v.reasons).toEqual([]);
    expect(v.flat).toBe(true);
    expect(v.samplesUsed).toBe(50);
  });

  it('flags steady RSS growth', () => {
    const s = series(60, 1000, (i) => 60 * MB + i * 0.5 * MB, () => 25);
    const v = judgeFlatness(s, limits);
    expect(v.flat).toBe(false);
    expect(v.reasons.join()).toMatch(/RSS grew/);
    expect(v.rss.slopeBytesPerMinute).toBeGreaterThan(25 * MB);
  });

  it('flags a file descriptor leak even when memory is flat', () => {
    const s = series(60, 1000, () => 60 * MB, (i) => 20 + Math.floor(i / 5));
    const v = judgeFlatness(s, limits);
    expect(v.flat).toBe(false);
    expect(v.reasons.join()).toMatch(/file descriptors grew by \d+/);
  });

  it('judges fds on the quiet counts when given: tunnels in flight are not a leak, fds left open with nothing connected are', () => {
    const busyEnd = series(60, 1000, () => 60 * MB, (i) => (i < 40 ? 21 : 29));
    expect(judgeFlatness(busyEnd, limits).flat).toBe(false);
    const quietSame = judgeFlatness(busyEnd, limits, { before: 21, after: 21 });
    expect(quietSame.flat).toBe(true);
    expect(quietSame.fds.quiet).toEqual({ before: 21, after: 21 });
    const quietLeak = judgeFlatness(series(60, 1000, () => 60 * MB, () => 21), limits, { before: 21, after: 31 });
    expect(quietLeak.flat).toBe(false);
    expect(quietLeak.reasons.join()).toMatch(/with no connection open, file descriptors grew by 10/);
  });

  it('judges the live heap at the quiet points, and RSS only over long enough runs when the live heap is known', () => {
    const level = { heapUsedBytes: 10 * MB, externalBytes: 2 * MB };
    // RSS climbing 20 MB in a minute (V8 sizing its heap), live heap level: flat on a short run.
    const climbing = series(60, 1000, (i) => 60 * MB + i * (20 / 60) * MB, () => 21);
    const short = judgeFlatness(climbing, limits, { before: 21, after: 21 }, { before: level, after: { heapUsedBytes: 10 * MB + 300_000, externalBytes: 2 * MB } });
    expect(short.reasons).toEqual([]);
    expect(short.rss.judged).toBe(false);
    expect(short.liveHeap?.growthBytes).toBe(300_000);
    // The same live heap growing 3 MB is a leak, however flat RSS looks.
    const leak = judgeFlatness(series(60, 1000, () => 60 * MB, () => 21), limits, { before: 21, after: 21 }, { before: level, after: { heapUsedBytes: 12 * MB, externalBytes: 3 * MB } });
    expect(leak.flat).toBe(false);
    expect(leak.reasons.join()).toMatch(/the live heap grew by 3\.0 MB \(12\.0 MB → 15\.0 MB after full GC\), more than the allowed 1\.0 MB/);
    // Over ten minutes RSS is judged again.
    const long = judgeFlatness(series(60, 10_000, (i) => 60 * MB + i * MB, () => 21), limits, { before: 21, after: 21 }, { before: level, after: level });
    expect(long.rss.judged).toBe(true);
    expect(long.reasons.join()).toMatch(/RSS grew/);
  });

  it('refuses a verdict on too few samples', () => {
    const v = judgeFlatness(series(12, 1000, () => 60 * MB, () => 20), limits);
    expect(v.flat).toBe(false);
    expect(v.reasons[0]).toMatch(/only 2 samples/);
  });

  it('computes a least-squares slope', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2);
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0);
  });
});

describe('ProcessSampler', () => {
  it('reads RSS and fds from /proc on its clock and sees descriptors opened in between', async () => {
    const clock = new ManualClock(0);
    const sampler = new ProcessSampler(process.pid, 1000, clock);
    sampler.start();
    const opened: number[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 50; j++) opened.push(openSync('/dev/null', 'r'));
        await clock.advance(1000);
      }
    } finally {
      for (const fd of opened) closeSync(fd);
      sampler.close();
    }
    const s = sampler.samples;
    expect(s.map((x) => x.atMs)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(s[4].fds - s[0].fds).toBeGreaterThanOrEqual(150);
    expect(s[0].rssBytes).toBeGreaterThan(10 * MB);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('records why sampling failed when the process is gone', () => {
    expect(() => readProcessSample(2 ** 22 + 12345)).toThrow(/ENOENT: no such file or directory, open '\/proc\/\d+\/status'/);
    const sampler = new ProcessSampler(2 ** 22 + 12345, 1000, new ManualClock(0));
    sampler.start();
    sampler.close();
    expect(sampler.samples).toEqual([]);
    expect(sampler.error()?.message).toMatch(/ENOENT|no such file/i);
  });
});
