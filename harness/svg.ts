/** Small inline-SVG charts for self-contained HTML reports (no scripts, no network resources). */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Horizontal bars, one per item. */
export function barChart(title: string, items: Array<{ label: string; value: number; highlight?: boolean }>, unit: string): string {
  const w = 640;
  const rowH = 24;
  const left = 150;
  const h = 40 + items.length * rowH + 10;
  const max = Math.max(1e-9, ...items.map((i) => i.value));
  const bars = items
    .map((it, i) => {
      const y = 36 + i * rowH;
      const bw = Math.max(1, ((w - left - 110) * it.value) / max);
      return (
        `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escapeXml(it.label)}</text>` +
        `<rect x="${left}" y="${y + 3}" width="${bw.toFixed(1)}" height="${rowH - 8}" fill="${it.highlight ? '#d62728' : '#1f77b4'}"/>` +
        `<text x="${left + bw + 6}" y="${y + 15}" font-size="12">${escapeXml(fmt(it.value))} ${escapeXml(unit)}</text>`
      );
    })
    .join('');
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img"><text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>${bars}</svg>`;
}

export interface Series {
  name: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

/**
 * Axis ticks from 0 to at least `max`, about `count` of them, at a step of 1, 2 or 5 times a power
 * of ten (what a reader can add up); an axis with nothing above 0 goes to 1.
 */
export function niceTicks(max: number, count = 5): number[] {
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const raw = top / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let i = 0; ticks.at(-1) === undefined || ticks.at(-1)! < top; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Line chart of several series sharing x (e.g. seconds) and y axes, with tick labels and grid lines. */
export function lineChart(title: string, series: Series[], xLabel: string, yLabel: string): string {
  const w = 720;
  const h = 300;
  const m = { l: 60, r: 160, t: 30, b: 40 };
  const all = series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.max(0, ...all.map((p) => p[0])), 6);
  const yTicks = niceTicks(Math.max(0, ...all.map((p) => p[1])), 5);
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const X = (x: number): number => m.l + ((w - m.l - m.r) * x) / xMax;
  const Y = (y: number): number => h - m.b - ((h - m.t - m.b) * y) / yMax;
  const axes =
    yTicks.map((v) => `<line x1="${m.l}" y1="${Y(v).toFixed(1)}" x2="${w - m.r}" y2="${Y(v).toFixed(1)}" stroke="#e5e5e5"/><text x="${m.l - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeXml(fmt(v))}</text>`).join('') +
    xTicks.map((v) => `<text x="${X(v).toFixed(1)}" y="${h - m.b + 16}" text-anchor="middle" font-size="11">${escapeXml(fmt(v))}</text>`).join('') +
    `<line x1="${m.l}" y1="${h - m.b}" x2="${w - m.r}" y2="${h - m.b}" stroke="#333"/>` +
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" stroke="#333"/>` +
    `<text x="${(m.l + w - m.r) / 2}" y="${h - 6}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>` +
    `<text x="14" y="${(m.t + h - m.b) / 2}" font-size="12" transform="rotate(-90 14 ${(m.t + h - m.b) / 2})" text-anchor="middle">${escapeXml(yLabel)}</text>`;
  const lines = series
    .map((s, i) => {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join('');
      const legendY = m.t + 14 + i * 18;
      return (
        `<path d="${d}" fill="none" stroke="${colour(i)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
        `<line x1="${w - m.r + 10}" y1="${legendY - 4}" x2="${w - m.r + 30}" y2="${legendY - 4}" stroke="${colour(i)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
        `<text x="${w - m.r + 36}" y="${legendY}" font-size="11">${escapeXml(s.name)}</text>`
      );
    })
    .join('');
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img"><text x="8" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>${axes}${lines}</svg>`;
}

/** A plain HTML table. */
export function htmlTable(head: string[], rows: Array<Array<string | number>>): string {
  const th = head.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(String(c))}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

/** Wraps content in a complete page with inline CSS only. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;font-size:13px}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.bad{color:#b00}.ok{color:#070}
svg{display:block;margin:12px 0}</style></head><body><h1>${escapeXml(title)}</h1>${body}</body></html>`;
}
