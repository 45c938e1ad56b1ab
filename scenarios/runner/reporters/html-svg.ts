import type { CollectedEvent } from '../events.js';
import { eventMeaning } from '../event-names.js';
import { connectionKey } from '../expectations/events.js';
import type { CounterSample, ScenarioResult, StepResult } from '../runner.js';
import { shortTarget } from './pretty.js';

/** Escapes text for HTML and SVG (element content and double-quoted attributes). */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

export type Verdict = 'verified' | 'refused' | 'error' | 'open';

/** One CONNECT as the gateway logged it: 103 and what followed on the same connection. */
export interface ConnectMark {
  atMs: number;
  lane: string;
  gateway: string;
  generation: number;
  target: string;
  ids: number[];
  verdict: Verdict;
}

function verdictOf(ids: number[]): Verdict {
  if (ids.some((id) => id >= 400)) return 'error';
  if (ids.some((id) => id === 104 || id === 105 || id === 106)) return 'refused';
  if (ids.includes(107)) return 'verified';
  return 'open';
}

export function connectMarks(events: readonly CollectedEvent[]): ConnectMark[] {
  const byKey = new Map<string, ConnectMark>();
  const marks: ConnectMark[] = [];
  for (const e of events) {
    if (e.connectionId === undefined) continue;
    const key = connectionKey(e);
    let m = byKey.get(key);
    if (!m) {
      if (e.id !== 103 && e.id !== 104) continue;
      m = { atMs: e.atMs, lane: e.client ?? e.clientIp ?? 'client', gateway: e.gateway, generation: e.generation, target: e.target ?? '', ids: [], verdict: 'open' };
      byKey.set(key, m);
      marks.push(m);
    }
    m.ids.push(e.id);
    if (!m.target && e.target) m.target = e.target;
    m.verdict = verdictOf(m.ids);
  }
  return marks;
}

interface LaneMark {
  atMs: number;
  lane: string;
  label: string;
  kind: string;
}

/** Restarts, stops, kills, faults and clock jumps, from the steps and the gateways' own 101/102. */
function laneMarks(r: ScenarioResult): LaneMark[] {
  const marks: LaneMark[] = [];
  for (const s of r.steps) {
    if (s.status === 'not-run') continue;
    const lane = s.do.startsWith('cloud.') ? 'cloud' : s.do.startsWith('clock.') ? 'clock' : s.do.startsWith('gateway.') || s.do.startsWith('balancer.') ? 'gateway' : undefined;
    if (lane) marks.push({ atMs: s.startMs, lane, label: `step ${s.index + 1} ${s.do}: ${s.description}`, kind: s.do.replace(/^[a-z]+\./, '') });
  }
  for (const e of r.events) if (e.id === 101 || e.id === 102 || e.id === 401) marks.push({ atMs: e.atMs, lane: 'gateway', label: `${e.gateway} gen ${e.generation}: ${e.id} ${eventMeaning(e.id, e.message)}`, kind: `e${e.id}` });
  return marks;
}

const COLOUR: Record<string, string> = { verified: '#1a7f37', refused: '#bf8700', error: '#cf222e', open: '#57606a' };

/** Width of a 10px label in the timeline's units (its viewBox is drawn at about 1:1), with a gap. */
function labelWidth(text: string): number {
  return text.length * 6.2 + 4;
}

/**
 * Step numbers whose labels would overlap share one label at the first one's line ("14–17"); each
 * group's hover text lists its steps.
 */
export function stepLabelGroups(steps: StepResult[], x: (ms: number) => number): { x: number; text: string; steps: StepResult[] }[] {
  const groups: { x: number; text: string; steps: StepResult[] }[] = [];
  const textOf = (list: StepResult[]): string => (list.length === 1 ? `${list[0].index + 1}` : `${list[0].index + 1}–${list[list.length - 1].index + 1}`);
  for (const s of steps) {
    const last = groups.at(-1);
    if (last && x(s.startMs) < last.x + labelWidth(textOf([...last.steps, s]))) {
      last.steps.push(s);
      last.text = textOf(last.steps);
    } else {
      groups.push({ x: x(s.startMs), text: `${s.index + 1}`, steps: [s] });
    }
  }
  return groups;
}

/**
 * The swimlane timeline: one lane per agent or probe, then the gateway, the cloud and the clock;
 * x is real time since the scenario started. Each CONNECT is a dot on its client's lane joined to
 * the gateway lane, coloured by its verdict; steps are faint vertical lines.
 */
export function swimlaneSvg(r: ScenarioResult): string {
  const connects = connectMarks(r.events);
  const others = laneMarks(r);
  const clients = [...new Set(connects.map((c) => c.lane))].sort();
  const lanes = [...clients, 'gateway', 'cloud', 'clock'];
  const end = Math.max(r.durationMs, ...connects.map((c) => c.atMs), ...others.map((m) => m.atMs), 1);
  const left = 110;
  const width = 1100;
  const laneH = 34;
  const top = 24;
  const height = top + lanes.length * laneH + 10;
  const x = (ms: number) => left + ((width - left - 10) * ms) / end;
  const y = (lane: string) => top + lanes.indexOf(lane) * laneH + laneH / 2;
  const out: string[] = [`<svg class="swimlane" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(`Timeline of ${r.name}: ${connects.length} CONNECTs on ${lanes.length} lanes`)}" xmlns="http://www.w3.org/2000/svg">`];
  lanes.forEach((lane) => {
    out.push(`<line x1="${left}" x2="${width - 10}" y1="${y(lane)}" y2="${y(lane)}" class="lane"/><text x="4" y="${y(lane) + 4}" class="lane-name">${esc(lane)}</text>`);
  });
  for (const s of r.steps) {
    out.push(`<g class="step-line"><line x1="${x(s.startMs)}" x2="${x(s.startMs)}" y1="${top - 6}" y2="${height - 6}"/><title>${esc(`step ${s.index + 1} ${s.do}: ${s.description} (${s.status})`)}</title></g>`);
  }
  // A label that would run past the right edge is written to the left of its line instead.
  const place = (at: number, text: string, gap: number): string => (at + gap + labelWidth(text) > width ? `x="${at - gap}" text-anchor="end"` : `x="${at + gap}"`);
  for (const g of stepLabelGroups(r.steps, x)) {
    out.push(`<g class="step-line"><text ${place(g.x, g.text, 2)} y="${top - 10}">${esc(g.text)}</text><title>${esc(g.steps.map((s) => `step ${s.index + 1} ${s.do}: ${s.description} (${s.status})`).join('\n'))}</title></g>`);
  }
  for (const c of connects) {
    const cx = x(c.atMs);
    const title = `${secs(c.atMs)} ${c.lane} → ${shortTarget(c.target)}: ${c.ids.map((id) => `${id} ${eventMeaning(id)}`).join(' → ')} (${c.gateway} gen ${c.generation})`;
    out.push(`<g class="connect ${c.verdict}"><line x1="${cx}" x2="${cx}" y1="${y(c.lane)}" y2="${y('gateway')}" stroke="${COLOUR[c.verdict]}"/><circle cx="${cx}" cy="${y(c.lane)}" r="5" fill="${COLOUR[c.verdict]}"/><circle cx="${cx}" cy="${y('gateway')}" r="3" fill="${COLOUR[c.verdict]}"/><title>${esc(title)}</title></g>`);
  }
  // A mark's name is written only where it does not run into the previous name on its lane; the
  // mark itself and its hover text are always there.
  const labelEnd = new Map<string, number>();
  for (const m of [...others].sort((a, b) => a.atMs - b.atMs)) {
    const cx = x(m.atMs);
    const start = cx + 6 + labelWidth(m.kind) > width ? cx - 6 - labelWidth(m.kind) : cx + 6;
    const fits = start >= (labelEnd.get(m.lane) ?? -Infinity);
    if (fits) labelEnd.set(m.lane, start + labelWidth(m.kind));
    const name = fits ? `<text ${place(cx, m.kind, 6)} y="${y(m.lane) - 6}" class="mark-label">${esc(m.kind)}</text>` : '';
    out.push(`<g class="mark ${esc(m.kind)}"><rect x="${cx - 4}" y="${y(m.lane) - 8}" width="8" height="16" rx="2"/>${name}<title>${esc(`${secs(m.atMs)} ${m.label}`)}</title></g>`);
  }
  out.push(`<text x="${width - 10}" y="${height - 1}" text-anchor="end" class="axis">${secs(end)}</text><text x="${left}" y="${height - 1}" class="axis">0s</text></svg>`);
  return out.join('\n');
}

const SERIES: [string, string][] = [
  ['activeClientConnections', 'Active Client Connection'],
  ['connectedClients', 'Connected Client'],
  ['rejectionCount', 'Rejection Count'],
  ['errorCount', 'Error Count'],
  ['tunnelsActive', 'Tunnels open'],
  ['bytesIn', 'Bytes from clients'],
];

/** Small step charts of the sampled counters, one per counter, a polyline per gateway process. */
export function counterCharts(samples: CounterSample[] | undefined, durationMs: number, steps: StepResult[]): string {
  if (!samples || samples.length === 0) return '<p>No counter samples (the scenario ran no gateway of ours, or ended before the first sample).</p>';
  const w = 340;
  const h = 120;
  const pad = 28;
  const end = Math.max(durationMs, ...samples.map((s) => s.atMs), 1);
  const charts = SERIES.map(([key, title]) => {
    const values = samples.map((s) => Number(s.counters[key] ?? 0));
    const max = Math.max(...values);
    const top = Math.max(1, max);
    const x = (ms: number) => pad + ((w - pad - 6) * ms) / end;
    const y = (v: number) => h - 16 - ((h - 30) * v) / top;
    const groups = new Map<string, CounterSample[]>();
    for (const s of samples) {
      const k = `${s.gateway} gen ${s.generation}`;
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    const lines = [...groups.entries()].map(([k, list], i) => `<polyline class="g${i % 4}" points="${list.map((s) => `${x(s.atMs).toFixed(1)},${y(Number(s.counters[key] ?? 0)).toFixed(1)}`).join(' ')}"><title>${esc(k)}</title></polyline>`);
    const stepTicks = steps.map((s) => `<line x1="${x(s.startMs)}" x2="${x(s.startMs)}" y1="${h - 16}" y2="${h - 12}" class="tick"/>`).join('');
    const last = values[values.length - 1];
    const legend = groups.size > 1 ? ` <small>${[...groups.keys()].map((k, i) => `<span class="g${i % 4}">${esc(k)}</span>`).join(' ')}</small>` : '';
    return `<figure class="counter"><figcaption>${esc(title)}: last ${esc(last)}, max ${esc(max)}${legend}</figcaption><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(`${title} over the run, last ${last}`)}" xmlns="http://www.w3.org/2000/svg"><line x1="${pad}" x2="${w - 6}" y1="${h - 16}" y2="${h - 16}" class="axis-line"/><text x="2" y="${y(top) + 4}" class="axis">${esc(top)}</text><text x="2" y="${h - 12}" class="axis">0</text>${stepTicks}${lines.join('')}<text x="${w - 6}" y="${h - 2}" text-anchor="end" class="axis">${secs(end)}</text></svg></figure>`;
  });
  return `<div class="counters">${charts.join('\n')}</div>`;
}
