// The live event log: the "OMS Gateway Log" as a table over server-sent events.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, html } from './api.js';

/** Events kept in the page (older ones fall off, like the gateway's own ring). */
const MAX_EVENTS = 2000;
const LEVELS = ['debug', 'info', 'warning', 'error'];
const SHOWN_MESSAGE = 300;

/** Parses the id filter ("103,105"). Returns { ids } or { error } for the user to fix. */
export function parseIdFilter(text) {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0) return { ids: null };
  const bad = parts.find((p) => !/^[0-9]{3}$/.test(p));
  if (bad !== undefined) return { error: `Id filter: use event ids such as 103,105 (not ${JSON.stringify(bad.slice(0, 40))}); showing all ids meanwhile.` };
  return { ids: new Set(parts.map(Number)) };
}

function clientOf(e) {
  if (!e.clientIp) return '';
  return e.clientPort !== undefined ? `${e.clientIp}:${e.clientPort}` : e.clientIp;
}

function matches(e, f) {
  if (f.ids && !f.ids.has(e.id)) return false;
  if (f.level && e.level !== f.level) return false;
  if (f.client && !clientOf(e).includes(f.client)) return false;
  if (f.target && !(e.target || '').toLowerCase().includes(f.target.toLowerCase())) return false;
  return true;
}

/**
 * Rows in groups: the events of one connection (103 and its 105/107/403...) together, so the 2016
 * story reads at a glance; events without a connection and gap markers stand alone. Newest first.
 */
function group(items, f) {
  const groups = new Map();
  let gapCount = 0;
  for (const item of items) {
    const key = item.gap ? `gap${gapCount++}` : item.connectionId !== undefined ? `${item.gen}c${item.connectionId}` : `${item.gen}s${item.seq}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, items: [], matched: false }));
    g.items.push(item);
    if (item.gap || matches(item, f)) g.matched = true;
  }
  return [...groups.values()].filter((g) => g.matched).reverse();
}

function outcome(g) {
  const ids = g.items.filter((e) => !e.gap).map((e) => e.id);
  return ids.join(' → ');
}

function Details({ event, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, [event]);
  const rows = Object.entries(event).map(([k, v]) => html`<div class="field"><dt>${k}</dt><dd>${typeof v === 'object' && v !== null ? html`<pre>${JSON.stringify(v, null, 2)}</pre>` : k === 'message' ? html`<pre>${String(v)}</pre>` : String(v)}</dd></div>`);
  return html`<dialog ref=${ref} class="details" aria-labelledby="details-title" onClose=${onClose}>
    <h3 id="details-title">Event ${event.id} (#${event.seq}), ${event.level}</h3>
    <dl>${rows}</dl>
    <form method="dialog"><button type="submit" autofocus>Close</button></form>
  </dialog>`;
}

function EventRow({ e, context, onOpen }) {
  const message = e.message.split('\n')[0];
  return html`<tr class=${`level-${e.level}${context ? ' context' : ''}`} data-gen=${e.gen} data-seq=${e.seq} data-id=${e.id} onClick=${() => onOpen(e)}>
    <td class="time">${e.time.slice(11, 23)}</td>
    <td><button type="button" class="id" aria-label=${`Event ${e.id} ${e.level}, number ${e.seq}: show all fields`} onClick=${(ev) => { ev.stopPropagation(); onOpen(e); }}>${e.id}</button></td>
    <td class="level">${e.level}</td>
    <td>${clientOf(e)}</td>
    <td class="target">${e.target || ''}</td>
    <td class="message">${message.length > SHOWN_MESSAGE ? message.slice(0, SHOWN_MESSAGE) + '…' : message}</td>
    <td>${e.connectionId ?? ''}</td>
  </tr>`;
}

function GapRow({ gap }) {
  if (gap.restart) return html`<tr class="gap restart"><td colspan="7">↻ ${gap.reason}</td></tr>`;
  return html`<tr class="gap"><td colspan="7">⚠ ${gap.dropped} event(s) not shown (#${gap.firstSeq}–#${gap.lastSeq}): ${gap.reason}</td></tr>`;
}

export function EventsPanel() {
  const [items, setItems] = useState([]);
  const [paused, setPaused] = useState(false);
  const [connected, setConnected] = useState('connecting');
  const [filters, setFilters] = useState({ id: '', level: '', client: '', target: '' });
  const [selected, setSelected] = useState(null);
  const [waiting, setWaiting] = useState(0);
  const incoming = useRef([]);
  const pausedRef = useRef(false);
  const lastSeq = useRef(0);

  useEffect(() => {
    let source;
    let timer;
    let closed = false;
    const flush = () => {
      timer = undefined;
      if (pausedRef.current || incoming.current.length === 0) return;
      const batch = incoming.current;
      incoming.current = [];
      setWaiting(0);
      setItems((old) => {
        const next = old.concat(batch);
        return next.length > MAX_EVENTS ? next.slice(next.length - MAX_EVENTS) : next;
      });
    };
    const queue = (item) => {
      incoming.current.push(item);
      // While paused the page holds at most MAX_EVENTS; older waiting ones become a gap marker.
      if (incoming.current.length > MAX_EVENTS) {
        const cut = incoming.current.splice(0, incoming.current.length - MAX_EVENTS).filter((x) => !x.gap);
        if (cut.length) incoming.current.unshift({ gap: true, dropped: cut.length, firstSeq: cut[0].seq, lastSeq: cut[cut.length - 1].seq, reason: 'more arrived while paused than the page keeps' });
      }
      if (pausedRef.current) setWaiting(incoming.current.length);
      if (!timer) timer = setTimeout(flush, 100);
    };
    // Seq numbers and connection ids start again when the gateway restarts: events are tagged with
    // the page's count of gateway processes seen (gen), and a new process is read from its start.
    let instance;
    let gen = 0;
    const onEvent = (e) => {
      if (e.seq <= lastSeq.current) return; // a reconnect replays what we have
      lastSeq.current = e.seq;
      queue({ ...e, gen });
    };
    const open = (since) => {
      const es = new EventSource(`/api/events/stream?since=${since}`);
      source = es;
      const live = (fn) => (m) => {
        if (source === es) fn(m);
      };
      es.addEventListener('open', live(() => setConnected('live')));
      es.addEventListener('error', live(() => setConnected(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting')));
      es.addEventListener('hello', live((m) => {
        const hello = JSON.parse(m.data);
        if (instance !== undefined && hello.instance !== instance) {
          instance = hello.instance;
          gen++;
          lastSeq.current = 0;
          window.dispatchEvent(new Event('omsgw-gateway-restarted'));
          queue({ gap: true, restart: true, dropped: 0, firstSeq: 0, lastSeq: 0, reason: 'the gateway restarted (a new process); its events follow' });
          es.close();
          open(0);
          return;
        }
        instance = hello.instance;
      }));
      es.addEventListener('gateway-event', live((m) => onEvent(JSON.parse(m.data))));
      es.addEventListener('gap', live((m) => queue({ gap: true, ...JSON.parse(m.data) })));
    };
    api('GET', '/api/events?limit=500')
      .then((r) => {
        if (closed) return;
        r.events.forEach(onEvent);
        lastSeq.current = Math.max(lastSeq.current, r.lastSeq);
        open(lastSeq.current);
      })
      .catch(() => setConnected('unreachable'));
    pausedRef.current = false;
    const resume = () => flush();
    window.addEventListener('omsgw-resume', resume);
    return () => {
      closed = true;
      source?.close();
      clearTimeout(timer);
      window.removeEventListener('omsgw-resume', resume);
    };
  }, []);

  const togglePause = () => {
    pausedRef.current = !paused;
    setPaused(!paused);
    if (paused) window.dispatchEvent(new Event('omsgw-resume'));
  };

  const idFilter = parseIdFilter(filters.id);
  const f = { ids: idFilter.ids ?? null, level: filters.level, client: filters.client.trim(), target: filters.target.trim() };
  const groups = useMemo(() => group(items, f), [items, filters.id, filters.level, filters.client, filters.target]);
  const set = (k) => (ev) => setFilters({ ...filters, [k]: ev.currentTarget.value });
  const shown = groups.reduce((n, g) => n + g.items.length, 0);

  return html`<section aria-labelledby="events-title" class="panel events">
    <h2 id="events-title">Event log</h2>
    <form class="filters" role="search" aria-label="Filter events" onSubmit=${(ev) => ev.preventDefault()}>
      <label>Event ids <input name="id" value=${filters.id} onInput=${set('id')} placeholder="103,105" maxlength="200" aria-invalid=${idFilter.error ? 'true' : 'false'} aria-describedby="filter-error" /></label>
      <label>Level <select name="level" value=${filters.level} onChange=${set('level')}>
        <option value="">all</option>${LEVELS.map((l) => html`<option value=${l}>${l}</option>`)}
      </select></label>
      <label>Client <input name="client" value=${filters.client} onInput=${set('client')} placeholder="127.0.0.1" maxlength="200" /></label>
      <label>Target <input name="target" value=${filters.target} onInput=${set('target')} placeholder="azure-automation.net" maxlength="200" /></label>
      <button type="button" aria-pressed=${paused ? 'true' : 'false'} onClick=${togglePause}>${paused ? 'Resume' : 'Pause'}</button>
    </form>
    <p id="filter-error" class="error" role="alert">${idFilter.error || ''}</p>
    <p class="stream-status" data-state=${connected}>Stream ${connected}${paused ? `, paused (${waiting} waiting)` : ''}; ${items.length} event(s) held, ${shown} shown.</p>
    <div class="table-wrap">
      <table class="event-table">
        <caption class="visually-hidden">Gateway events, newest connection first; the events of one connection are grouped.</caption>
        <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Id</th><th scope="col">Level</th><th scope="col">Client</th><th scope="col">Target</th><th scope="col">Message</th><th scope="col">Conn</th></tr></thead>
        ${groups.map((g) => html`<tbody key=${g.key} class="group" data-outcome=${outcome(g)}>
          ${g.items.map((item) => (item.gap ? html`<${GapRow} gap=${item} />` : html`<${EventRow} e=${item} context=${!matches(item, f)} onOpen=${setSelected} />`))}
        </tbody>`)}
      </table>
    </div>
    ${selected && html`<${Details} event=${selected} onClose=${() => setSelected(null)} />`}
  </section>`;
}
