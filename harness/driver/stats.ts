import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary } from './types.js';

/** Microsecond latency histogram up to one minute, 3 significant digits. */
export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * Percentiles and max in µs. A percentile is the top of its HDR bucket (3 significant digits), which
 * can lie above the largest value recorded: it is capped at max, so p99 ≤ max always holds.
 */
export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const max = h.maxValue;
  const at = (p: number): number => Math.min(h.getValueAtPercentile(p), max);
  return { count: h.totalCount, p50: at(50), p90: at(90), p99: at(99), max, mean: Math.round(h.mean) };
}

/** Records a duration measured with process.hrtime.bigint(), clamped to the histogram's range. */
export function recordSince(h: Histogram, startNs: bigint): void {
  recordUs(h, Number((process.hrtime.bigint() - startNs) / 1000n));
}

/** Records a duration in µs, clamped to the histograms' range (1 µs .. 60 s). */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(Math.min(Math.max(Math.round(us), 1), 60_000_000));
}

/** Counts errors by kind (connect_403, econnreset, timeout, tls_..., closed, http_500). */
export class ErrorTally {
  readonly byKind: Record<string, number> = {};
  total = 0;
  add(kind: string): void {
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    this.total++;
  }
}

/** Maps a socket/TLS error to a short, stable kind. */
export function errorKind(err: unknown): string {
  const e = err as { code?: string; kind?: string; message?: string };
  if (e && typeof e.kind === 'string') return e.kind;
  const code = e?.code ?? '';
  if (code === 'ECONNRESET') return 'econnreset';
  if (code === 'ECONNREFUSED') return 'econnrefused';
  if (code === 'EPIPE') return 'epipe';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code === 'EADDRNOTAVAIL') return 'eaddrnotavail';
  if (code === 'EMFILE' || code === 'ENFILE') return 'emfile';
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /ssl|tls|certificate/i.test(e?.message ?? '')) return `tls_${code || 'error'}`.toLowerCase();
  if (code) return code.toLowerCase();
  return 'other';
}

/** An error carrying its kind, for failures the driver detects itself. */
export class KindError extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}
