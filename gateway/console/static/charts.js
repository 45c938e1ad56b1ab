// The gateway's counters as live time series, like Performance Monitor's "OMS Gateway" object.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api, html } from './api.js';

const POLL_MS = 1000;
const MAX_POINTS = 300;

/** Each chart: its Performance Monitor name and how to read it from GET /api/counters. */
export const CHARTS = [
  { key: 'active', title: 'Active Client Connection', series: [['open connections', (c) => c.activeClientConnections]] },
  { key: 'connected', title: 'Connected Client', series: [['distinct clients (daily reset)', (c) => c.connectedClients], ['in window', (c) => c.connectedClientsWindow]] },
  { key: 'rejections', title: 'Rejection Count', series: [['rejections', (c) => c.rejectionCount]] },
  { key: 'errors', title: 'Error Count', series: [['errors', (c) => c.errorCount]] },
  { key: 'tunnels', title: 'Tunnels', series: [['open', (c) => c.tunnelsActive], ['total', (c) => c.tunnelsTotal]] },
  { key: 'bytes', title: 'Bytes per second', rate: true, series: [['from clients', (c) => c.bytesIn], ['to clients', (c) => c.bytesOut]] },
];

const COLOURS = ['#1f6feb', '#d97706', '#16a34a'];

function Chart({ spec, data, latest }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(240, (box.current.clientWidth || 320) - 8);
    plot.current = new uPlot(
      {
        width,
        height: 140,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [{}, { size: 60 }],
        series: [{}, ...spec.series.map(([label], i) => ({ label, stroke: COLOURS[i], width: 2 }))],
      },
      data,
      box.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  const value = latest === undefined ? '–' : latest.map((v) => (Number.isInteger(v) ? v : v.toFixed(1))).join(' / ');
  return html`<figure class="chart" data-chart=${spec.key} data-points=${data[0].length} data-last=${value} aria-labelledby=${`chart-${spec.key}`}>
    <figcaption id=${`chart-${spec.key}`}>${spec.title}: <output>${value}</output>
      ${spec.series.length > 1 ? html`<span class="legend">${spec.series.map(([label], i) => html`<span class="swatch" data-colour=${i}>${label}</span>`)}</span>` : ''}</figcaption>
    <div ref=${box} class="plot" role="img" aria-label=${`${spec.title} over the last ${data[0].length} samples, now ${value}`}></div>
  </figure>`;
}

export function CountersPanel() {
  const [series, setSeries] = useState(() => ({ t: [], values: CHARTS.map((c) => c.series.map(() => [])), latest: undefined }));
  const [error, setError] = useState('');
  const previous = useRef(null);
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const c = await api('GET', '/api/counters');
        if (stopped) return;
        setError('');
        const now = Date.now() / 1000;
        const prev = previous.current;
        previous.current = { c, now };
        setSeries((old) => {
          const cut = (a, v) => {
            const next = a.concat([v]);
            return next.length > MAX_POINTS ? next.slice(next.length - MAX_POINTS) : next;
          };
          const values = CHARTS.map((spec, i) =>
            spec.series.map(([, read], j) => {
              const v = spec.rate ? (prev && now > prev.now ? Math.max(0, (read(c) - read(prev.c)) / (now - prev.now)) : 0) : read(c);
              return cut(old.values[i][j], v);
            }),
          );
          return { t: cut(old.t, now), values, latest: CHARTS.map((_, i) => values[i].map((s) => s[s.length - 1])) };
        });
      } catch (err) {
        if (!stopped) setError(`Counters unavailable: ${err.message}`);
      }
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  return html`<section aria-labelledby="counters-title" class="panel counters">
    <h2 id="counters-title">Counters</h2>
    <p class="error" role="alert">${error}</p>
    <div class="charts">
      ${CHARTS.map((spec, i) => html`<${Chart} key=${spec.key} spec=${spec} data=${[series.t, ...series.values[i]]} latest=${series.latest?.[i]} />`)}
    </div>
  </section>`;
}
