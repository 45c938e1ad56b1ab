import type { LoadReport } from './types.js';
import { escapeXml, htmlPage, htmlTable, lineChart, type Series } from '../../harness/svg.js';

/** Self-contained HTML: counters vs truth over time, latency and throughput over time, tables. */
export function renderLoadHtml(r: LoadReport): string {
  const pts = r.timeline;
  const sec = (t: number): number => t / 1000;
  const pair = (name: string, g: (p: (typeof pts)[number]) => number | undefined, t: (p: (typeof pts)[number]) => number): Series[] => [
    { name: `${name} (gateway)`, points: pts.filter((p) => g(p) !== undefined).map((p) => [sec(p.t), g(p)!]) },
    { name: `${name} (truth)`, points: pts.map((p) => [sec(p.t), t(p)]), dashed: true },
  ];
  const charts = [
    lineChart('Active Client Connection vs harness open connections', pair('active', (p) => p.gateway?.activeClientConnections, (p) => p.truth.openConnections), 'seconds', 'connections'),
    lineChart('Connected Client vs distinct source addresses', pair('clients', (p) => p.gateway?.connectedClients, (p) => p.truth.distinctSources), 'seconds', 'clients'),
    lineChart(
      'Rejection Count and Error Count vs caused',
      [...pair('rejections', (p) => p.gateway?.rejectionCount, (p) => p.truth.rejectionsCaused), ...pair('errors', (p) => p.gateway?.errorCount, (p) => p.truth.errorsCaused)],
      'seconds',
      'count',
    ),
    lineChart('p99 latency per interval', [{ name: 'p99 (ms)', points: pts.map((p) => [sec(p.t), p.p99Us / 1000]) }], 'seconds', 'ms'),
    lineChart('Throughput', [{ name: r.profile === 'agents' ? 'agent cycles/s' : 'requests/s', points: pts.map((p) => [sec(p.t), p.requestsPerSec]) }], 'seconds', 'per second'),
  ].join('');
  const acc = r.accuracy
    ? htmlTable(
        ['counter', 'gateway', 'truth', 'truth is', 'quiescent points', 'deviations', 'max |diff| any sample', 'verdict'],
        r.accuracy.rows.map((row) => [row.counter, row.gateway ?? '-', row.truth ?? '-', row.truthName, row.quiescentPoints, row.quiescentDeviations, row.maxAbsDeviationAnySample, row.ok ? 'ok' : 'DEVIATES']),
      )
    : '<p>Counters not compared (no management API).</p>';
  const rec = r.accuracy?.records
    ? htmlTable(['created', 'acknowledged', 'ingested', 'dropped', 'queued', 'lost'], [[r.accuracy.records.created, r.accuracy.records.acknowledged, r.accuracy.records.ingested, r.accuracy.records.dropped, r.accuracy.records.queued, r.accuracy.records.lost]])
    : '';
  const l = r.latency;
  const body =
    `<p class="${r.ok ? 'ok' : 'bad'}"><b>${r.ok ? 'OK: ' + escapeXml(r.checks.map((c) => c.detail).join(', ')) : 'FAILED: ' + escapeXml(r.verdict.join('; '))}</b></p>` +
    r.notChecked.map((n) => `<p>Not checked: ${escapeXml(n)}.</p>`).join('') +
    `<p>Profile ${escapeXml(r.profile)}, ${(r.durationMs / 1000).toFixed(1)} s, started ${escapeXml(r.startedAt)}, gateway ${escapeXml(r.gateway.kind)} at ${escapeXml(`${r.gateway.proxy.host}:${r.gateway.proxy.port}`)}.</p>` +
    htmlTable(['throughput', 'per second', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [[r.throughput.requests, r.throughput.requestsPerSec, (l.p50 / 1000).toFixed(2), (l.p90 / 1000).toFixed(2), (l.p99 / 1000).toFixed(2), (l.max / 1000).toFixed(2)]]) +
    `<p>Latency of ${escapeXml(r.latencyMeasures)}.</p>` +
    `<h2>Counter accuracy</h2>${acc}${rec}` +
    `<h2>Errors by kind</h2>${Object.keys(r.errorsByKind).length ? htmlTable(['kind', 'count'], Object.entries(r.errorsByKind).map(([k, v]) => [k, v])) : '<p>None.</p>'}` +
    `<p>Caused on purpose: ${r.probes.forbiddenSent} forbidden CONNECTs (${r.probes.rejectionsCaused} rejected), ${r.probes.errorProbesSent} unreachable-upstream CONNECTs (${r.probes.errorsCaused} errors).</p>` +
    `<h2>Over time</h2>${charts}`;
  return htmlPage(`omsgw load report — ${r.profile}`, body);
}
