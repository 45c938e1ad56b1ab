import { readFileSync, readdirSync } from 'node:fs';
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';
import type { LiveHeap } from './live-heap-line.js';

/**
 * Samples a process's resident memory and open file descriptors from /proc and judges whether they
 * stay flat: a gateway that leaks a socket or a buffer per connection shows up as steady growth.
 */

export interface ProcessSample {
  /** Milliseconds since the sampler started (on its clock). */
  atMs: number;
  rssBytes: number;
  fds: number;
}

/** One reading of /proc/<pid>; throws if the process is gone or /proc is unavailable. */
export function readProcessSample(pid: number): { rssBytes: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line (is ${pid} a zombie?)`);
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  return { rssBytes: Number(m[1]) * 1024, fds };
}

export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  private timer: TimerHandle | undefined;
  private startedAt = 0;
  private lastError: Error | undefined;

  constructor(
    private readonly pid: number,
    private readonly intervalMs: number,
    private readonly clock: Clock = systemClock,
    private readonly onSample?: (s: ProcessSample) => void,
  ) {
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`pid must be a positive integer, got ${pid}`);
    if (!(intervalMs > 0)) throw new Error(`sample interval must be > 0 ms, got ${intervalMs}`);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.startedAt = this.clock.now();
    this.sampleNow();
    this.timer = this.clock.setInterval(() => this.sampleNow(), this.intervalMs);
  }

  /** Takes one sample now (also called by the timer). */
  sampleNow(): ProcessSample | undefined {
    try {
      const s = { atMs: this.clock.now() - this.startedAt, ...readProcessSample(this.pid) };
      this.samples.push(s);
      this.onSample?.(s);
      return s;
    } catch (err) {
      // The process may have exited between two samples; keep what we have and say why later.
      this.lastError = err as Error;
      return undefined;
    }
  }

  /** Why the last sample failed, if it did. */
  error(): Error | undefined {
    return this.lastError;
  }

  close(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}

export interface FlatnessLimits {
  /** Samples before this (ms since start) are warm-up and ignored (JIT, pools, first allocations). */
  warmupMs: number;
  /** Allowed RSS growth between the first and the last window after warm-up, in bytes... */
  maxRssGrowthBytes: number;
  /** ...or as a fraction of the post-warm-up start, whichever is larger. */
  maxRssGrowthRatio: number;
  /** Allowed growth in open file descriptors between the first and the last window. */
  maxFdGrowth: number;
  /** Fraction of the post-warm-up samples in each comparison window (medians tame GC noise). */
  windowFraction?: number;
  /** Fewest post-warm-up samples for a verdict. */
  minSamples?: number;
  /** Allowed growth of the live heap (V8 heap + external after full GC) between the quiet points. Default 1 MB. */
  maxLiveHeapGrowthBytes?: number;
  /**
   * When the live heap is measured, RSS is judged only over at least this much post-warm-up time
   * (default 5 minutes): over a minute V8's heap sizing moves RSS by more than a small leak would.
   */
  minRssSpanMs?: number;
}

const DEFAULT_LIVE_HEAP_GROWTH = 1024 * 1024;
const DEFAULT_MIN_RSS_SPAN_MS = 5 * 60_000;

const liveBytes = (h: LiveHeap): number => h.heapUsedBytes + h.externalBytes;

export interface FlatnessVerdict {
  flat: boolean;
  reasons: string[];
  samplesUsed: number;
  rss: { judged: boolean; startBytes: number; endBytes: number; growthBytes: number; allowedGrowthBytes: number; slopeBytesPerMinute: number; maxBytes: number };
  liveHeap?: { before: LiveHeap; after: LiveHeap; growthBytes: number; allowedGrowthBytes: number };
  fds: { start: number; end: number; growth: number; allowedGrowth: number; max: number; quiet?: { before: number; after: number } };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Flat means: after warm-up, the median of the last window is not more than the allowed growth
 * above the median of the first window, for RSS and for fds. The regression slope is reported
 * for the record; the window medians decide, since GC makes single samples jumpy.
 *
 * Open fds under load include the tunnels in flight at that instant, which vary with how busy the
 * machine is. When `quiet` fd counts are given (taken with no connection open, before and after
 * the load), they decide instead: a descriptor still open when nothing is connected is a leak.
 * Likewise the live heap at those two points (after full GC): memory still held when nothing is
 * connected is a leak, and it is exact where RSS is not, so it replaces RSS on short runs.
 */
export function judgeFlatness(samples: ProcessSample[], limits: FlatnessLimits, quiet?: { before: number; after: number }, liveHeap?: { before: LiveHeap; after: LiveHeap }): FlatnessVerdict {
  const windowFraction = limits.windowFraction ?? 0.2;
  const minSamples = limits.minSamples ?? 6;
  const used = samples.filter((s) => s.atMs >= limits.warmupMs);
  const reasons: string[] = [];
  if (used.length < minSamples) {
    reasons.push(`only ${used.length} samples after the ${limits.warmupMs} ms warm-up; need at least ${minSamples}`);
  }
  const w = Math.max(1, Math.round(used.length * windowFraction));
  const first = used.slice(0, w);
  const last = used.slice(-w);
  const rssStart = first.length ? median(first.map((s) => s.rssBytes)) : 0;
  const rssEnd = last.length ? median(last.map((s) => s.rssBytes)) : 0;
  const fdStart = first.length ? median(first.map((s) => s.fds)) : 0;
  const fdEnd = last.length ? median(last.map((s) => s.fds)) : 0;
  const allowedRss = Math.max(limits.maxRssGrowthBytes, rssStart * limits.maxRssGrowthRatio);
  const rssGrowth = rssEnd - rssStart;
  const fdGrowth = fdEnd - fdStart;
  const spanMs = used.length ? used[used.length - 1].atMs - used[0].atMs : 0;
  const rssJudged = !liveHeap || spanMs >= (limits.minRssSpanMs ?? DEFAULT_MIN_RSS_SPAN_MS);
  const allowedHeap = limits.maxLiveHeapGrowthBytes ?? DEFAULT_LIVE_HEAP_GROWTH;
  const heapGrowth = liveHeap ? liveBytes(liveHeap.after) - liveBytes(liveHeap.before) : 0;
  if (liveHeap && heapGrowth > allowedHeap) {
    reasons.push(`with no connection open, the live heap grew by ${mb(heapGrowth)} (${mb(liveBytes(liveHeap.before))} → ${mb(liveBytes(liveHeap.after))} after full GC), more than the allowed ${mb(allowedHeap)}`);
  }
  if (used.length >= minSamples) {
    if (rssJudged && rssGrowth > allowedRss) {
      reasons.push(`RSS grew by ${mb(rssGrowth)} (${mb(rssStart)} → ${mb(rssEnd)}), more than the allowed ${mb(allowedRss)}`);
    }
    if (quiet) {
      if (quiet.after - quiet.before > limits.maxFdGrowth) {
        reasons.push(`with no connection open, file descriptors grew by ${quiet.after - quiet.before} (${quiet.before} before the load → ${quiet.after} after it), more than the allowed ${limits.maxFdGrowth}`);
      }
    } else if (fdGrowth > limits.maxFdGrowth) {
      reasons.push(`open file descriptors grew by ${fdGrowth} (${fdStart} → ${fdEnd}), more than the allowed ${limits.maxFdGrowth}`);
    }
  }
  const perMinute = slope(
    used.map((s) => s.atMs / 60_000),
    used.map((s) => s.rssBytes),
  );
  return {
    flat: reasons.length === 0,
    reasons,
    samplesUsed: used.length,
    rss: {
      judged: rssJudged,
      startBytes: rssStart,
      endBytes: rssEnd,
      growthBytes: rssGrowth,
      allowedGrowthBytes: allowedRss,
      slopeBytesPerMinute: Math.round(perMinute),
      maxBytes: used.reduce((m, s) => Math.max(m, s.rssBytes), 0),
    },
    fds: { start: fdStart, end: fdEnd, growth: fdGrowth, allowedGrowth: limits.maxFdGrowth, max: used.reduce((m, s) => Math.max(m, s.fds), 0), ...(quiet ? { quiet } : {}) },
    ...(liveHeap ? { liveHeap: { ...liveHeap, growthBytes: heapGrowth, allowedGrowthBytes: allowedHeap } } : {}),
  };
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
