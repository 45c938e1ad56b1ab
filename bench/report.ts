import type { BenchResults } from './run.js';
import type { SimulatorMetrics } from './simulator.js';
import { barChart, escapeXml, htmlPage, htmlTable } from '../harness/svg.js';

export const OURS = 'omsgw';
/** Peers omsgw is compared against (ratio columns), in order. */
const COMPARE = ['direct', 'squid', 'tinyproxy', 'naive-node'];

export interface MetricRow {
  workload: string;
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  values: Record<string, number | undefined>;
}

function pick<T>(rec: Record<string, T> | undefined, f: (v: T) => number): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const [k, v] of Object.entries(rec ?? {})) out[k] = f(v);
  return out;
}

/** Every measured number as rows of (metric × peer). */
export function metricRows(r: BenchResults): MetricRow[] {
  const rows: MetricRow[] = [];
  if (Object.keys(r.keepalive).length) {
    rows.push({ workload: 'keepalive (50 conns)', metric: 'req/s', unit: 'req/s', higherIsBetter: true, values: pick(r.keepalive, (m) => m.reqPerSec) });
    rows.push({ workload: 'keepalive (50 conns)', metric: 'p99', unit: 'ms', higherIsBetter: false, values: pick(r.keepalive, (m) => m.p99Us / 1000) });
  }
  if (r.halfload) {
    rows.push({ workload: `half load (${r.halfload.ratePerSec} req/s)`, metric: 'p99', unit: 'ms', higherIsBetter: false, values: pick(r.halfload.byPeer, (m) => m.p99Us / 1000) });
    const d = r.halfload.byPeer['direct']?.p99Us;
    if (d !== undefined) rows.push({ workload: `half load (${r.halfload.ratePerSec} req/s)`, metric: 'added p99 vs direct', unit: 'ms', higherIsBetter: false, values: pick(r.halfload.byPeer, (m) => (m.p99Us - d) / 1000) });
  }
  if (Object.keys(r.churn).length) {
    rows.push({ workload: 'new tunnel + TLS per request', metric: 'req/s', unit: 'req/s', higherIsBetter: true, values: pick(r.churn, (m) => m.reqPerSec) });
    rows.push({ workload: 'new tunnel + TLS per request', metric: 'p99', unit: 'ms', higherIsBetter: false, values: pick(r.churn, (m) => m.p99Us / 1000) });
  }
  if (Object.keys(r.bulk1).length) rows.push({ workload: 'bulk, 1 tunnel', metric: 'MB/s', unit: 'MB/s', higherIsBetter: true, values: pick(r.bulk1, (m) => m.mbPerSec) });
  if (Object.keys(r.bulk100).length) rows.push({ workload: 'bulk, 100 tunnels', metric: 'MB/s', unit: 'MB/s', higherIsBetter: true, values: pick(r.bulk100, (m) => m.mbPerSec) });
  const counts = new Set(Object.values(r.idle).flatMap((v) => Object.keys(v)));
  for (const c of [...counts].sort((a, b) => Number(a) - Number(b))) {
    const values: Record<string, number | undefined> = {};
    const errs: Record<string, number | undefined> = {};
    for (const [peer, byCount] of Object.entries(r.idle)) {
      if (byCount[c]) {
        values[peer] = byCount[c].bytesPerTunnel / 1024;
        errs[peer] = byCount[c].errors;
      }
    }
    rows.push({ workload: `${c} idle tunnels`, metric: 'RSS per tunnel', unit: 'KiB', higherIsBetter: false, values });
    rows.push({ workload: `${c} idle tunnels`, metric: 'errors', unit: '', higherIsBetter: false, values: errs });
  }
  if (Object.keys(r.agents).length) rows.push({ workload: 'agents at sizing profile', metric: 'sustained (zero errors)', unit: 'agents', higherIsBetter: true, values: pick(r.agents, (m) => m.sustained) });
  return rows;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '-';
  return `${(a / b).toFixed(2)}x`;
}

function num(v: number | undefined): string {
  if (v === undefined) return '-';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(2);
}

export function peerNames(r: BenchResults): string[] {
  return r.peers.filter((p) => p.status === 'ok').map((p) => p.name);
}

/** Table rows: workload, metric, each peer's value, then omsgw/peer ratios. */
export function ratioTable(r: BenchResults): { head: string[]; rows: string[][] } {
  const peers = peerNames(r);
  const compare = COMPARE.filter((c) => peers.includes(c));
  const head = ['workload', 'metric', ...peers, ...compare.map((c) => `omsgw/${c}`)];
  const rows = metricRows(r)
    .filter((m) => m.metric !== 'errors' && m.metric !== 'added p99 vs direct')
    .map((m) => [m.workload, `${m.metric}${m.unit && m.unit !== m.metric ? ` (${m.unit})` : ''}`, ...peers.map((p) => num(m.values[p])), ...compare.map((c) => ratio(m.values[OURS], m.values[c]))]);
  const extra = metricRows(r).filter((m) => m.metric === 'errors' || m.metric === 'added p99 vs direct');
  for (const m of extra) rows.push([m.workload, `${m.metric}${m.unit ? ` (${m.unit})` : ''}`, ...peers.map((p) => num(m.values[p])), ...compare.map(() => '')]);
  return { head, rows };
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

/** The issue's targets, checked against this run (null = not measured in this run). */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const bestPeer = (rec: Record<string, { reqPerSec: number }>): [string, number] | undefined =>
    ['squid', 'tinyproxy']
      .filter((p) => rec[p])
      .map((p) => [p, rec[p].reqPerSec] as [string, number])
      .sort((a, b) => b[1] - a[1])[0];
  const ours = r.keepalive[OURS];
  const best = bestPeer(r.keepalive);
  out.push({
    target: 'kept-alive req/s with inspection >= 1.0x best peer',
    measured: ours && best ? `${(ours.reqPerSec / best[1]).toFixed(2)}x ${best[0]} (${Math.round(ours.reqPerSec)} vs ${Math.round(best[1])})` : 'not measured',
    met: ours && best ? ours.reqPerSec >= best[1] : null,
  });
  const direct = r.keepalive['direct'];
  out.push({
    target: 'kept-alive req/s aim: 0.7x direct',
    measured: ours && direct ? `${(ours.reqPerSec / direct.reqPerSec).toFixed(2)}x direct` : 'not measured',
    met: ours && direct ? ours.reqPerSec >= 0.7 * direct.reqPerSec : null,
  });
  const oc = r.churn[OURS];
  const bc = bestPeer(r.churn);
  out.push({
    target: 'new tunnel + TLS rate >= best peer',
    measured: oc && bc ? `${(oc.reqPerSec / bc[1]).toFixed(2)}x ${bc[0]} (${Math.round(oc.reqPerSec)} vs ${Math.round(bc[1])}/s)` : 'not measured',
    met: oc && bc ? oc.reqPerSec >= bc[1] : null,
  });
  const h = r.halfload;
  const added = h && h.byPeer[OURS] && h.byPeer['direct'] ? (h.byPeer[OURS].p99Us - h.byPeer['direct'].p99Us) / 1000 : undefined;
  out.push({ target: 'added p99 at half load < 1 ms', measured: added === undefined ? 'not measured' : `${added.toFixed(3)} ms`, met: added === undefined ? null : added < 1 });
  for (const count of Object.keys(r.idle[OURS] ?? {})) {
    const mine = r.idle[OURS][count].bytesPerTunnel / 1024;
    const others = ['squid', 'tinyproxy', 'naive-node'].filter((p) => r.idle[p]?.[count]).map((p) => [p, r.idle[p][count].bytesPerTunnel / 1024] as const);
    out.push({
      target: `RSS per idle tunnel (${count}) below every peer's`,
      measured: `${mine.toFixed(1)} KiB vs ${others.map(([p, v]) => `${p} ${v.toFixed(1)}`).join(', ') || 'no peers'}`,
      met: others.length ? others.every(([, v]) => mine < v) : null,
    });
    out.push({ target: `RSS per idle tunnel (${count}) aim: 12 KiB`, measured: `${mine.toFixed(1)} KiB`, met: mine <= 12 });
  }
  const big = r.idle[OURS]?.['8000'];
  out.push({ target: '8,000 concurrent tunnels, no errors', measured: big ? `${big.open} open, ${big.errors} errors` : 'not measured', met: big ? big.open === 8000 && big.errors === 0 : null });
  const ag = r.agents[OURS];
  out.push({ target: '>= 600 agents at the sizing profile', measured: ag ? `${ag.sustained} sustained` : 'not measured', met: ag ? ag.sustained >= 600 : null });
  const sim = r.simulatorAtScale ?? r.simulator;
  const described = (m: SimulatorMetrics): string =>
    `${m.cpuMsPerCycle} ms at ${m.agents} agents in ${m.processes === 1 ? 'one process' : `${m.processes} agent processes + the cloud's`} (${m.ratioToTarget}x the target; ${m.cyclesPerCpuSecond} cycles per CPU-second, ${m.cycles} cycles of ~${m.kbPerCycle} KB, records ${m.records.ingested}/${m.records.created} ingested` +
    `${m.eventLoopMsPerCycle !== undefined ? `; event loop ${m.eventLoopMsPerCycle} ms` : ''}${m.gatewayMsPerCycle !== undefined ? `; gateway ${m.gatewayMsPerCycle} ms per cycle as the machine's yardstick` : ''}; rounds over their interval ${m.overrunRounds} of ${m.rounds}; load average ${m.loadavg1})`;
  out.push({
    target: 'simulator CPU per agent cycle <= 10 ms (agents + fake cloud, records unique and ledgered)',
    measured: sim ? [sim, ...(r.simulatorAtScale && r.simulator ? [r.simulator] : [])].map(described).join('; ') : 'not measured',
    met: sim ? sim.cpuMsPerCycle <= 10 && sim.records.ok : null,
  });
  const at = r.simulatorAtScale;
  out.push({
    target: 'simulator at the sizing scale: every round of 600 agents at --speed 1 within its 6 s interval, with the gateway on the same machine',
    measured: at ? `${at.rounds - at.overrunRounds} of ${at.rounds} rounds within the interval at ${at.agents} agents in ${at.processes} agent processes (load average ${at.loadavg1})` : 'not measured',
    met: at ? at.agents >= 600 && at.overrunRounds === 0 && at.rounds > 0 && at.records.ok : null,
  });
  out.push({ target: 'agents aim: 2,000', measured: ag ? `${ag.sustained} sustained (ladder ${ag.steps.map((s) => s.agents).join('/')})` : 'not measured', met: ag ? ag.sustained >= 2000 : null });
  return out;
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export function formatText(r: BenchResults): string {
  const t = ratioTable(r);
  const lines = [`omsgw bench ${r.quick ? '(quick) ' : ''}${r.date} — ${r.machine.cpus} CPUs, ${r.machine.model}, node ${r.machine.node}, load average ${r.machine.loadavgStart.toFixed(1)} → ${r.machine.loadavgEnd.toFixed(1)}, ${(r.durationMs / 1000).toFixed(0)} s`, ''];
  lines.push(pad([t.head, ...t.rows]));
  lines.push('');
  for (const p of r.peers.filter((p) => p.status === 'skipped')) lines.push(`skipped: ${p.name} — ${p.reason}`);
  for (const e of r.errors) lines.push(`failed: ${e.workload} on ${e.peer} — ${e.message}`);
  lines.push('', 'targets:');
  for (const c of checkTargets(r)) lines.push(`  [${c.met === null ? ' -- ' : c.met ? ' ok ' : 'MISS'}] ${c.target}: ${c.measured}`);
  return lines.join('\n');
}

export function renderBenchHtml(r: BenchResults): string {
  const t = ratioTable(r);
  const charts = metricRows(r)
    .filter((m) => m.metric !== 'errors')
    .map((m) =>
      barChart(
        `${m.workload}: ${m.metric}${m.higherIsBetter ? ' (higher is better)' : ' (lower is better)'}`,
        Object.entries(m.values)
          .filter(([, v]) => v !== undefined)
          .map(([label, value]) => ({ label, value: value!, highlight: label === OURS })),
        m.unit,
      ),
    )
    .join('');
  const targets = checkTargets(r)
    .map((c) => `<li class="${c.met === false ? 'bad' : c.met ? 'ok' : ''}">${c.met === null ? 'not measured' : c.met ? 'met' : 'missed'}: ${escapeXml(c.target)} — ${escapeXml(c.measured)}</li>`)
    .join('');
  const skipped = r.peers.filter((p) => p.status === 'skipped').map((p) => `<li>${escapeXml(p.name)} skipped: ${escapeXml(p.reason ?? '')}</li>`).join('');
  const body =
    `<p>${escapeXml(r.date)}${r.quick ? ' (quick run)' : ''} — ${r.machine.cpus} CPUs (${escapeXml(r.machine.model)}), node ${escapeXml(r.machine.node)}, load average ${r.machine.loadavgStart.toFixed(1)} at the start and ${r.machine.loadavgEnd.toFixed(1)} at the end (above the CPU count means other work competed). Compare ratios within this run only.</p>` +
    `<ul>${r.notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}${skipped}</ul>` +
    `<h2>Targets</h2><ul>${targets}</ul><h2>Ratios</h2>${htmlTable(t.head, t.rows)}<h2>Charts</h2>${charts}`;
  return htmlPage('omsgw benchmark', body);
}
