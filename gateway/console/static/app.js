// The omsgw gateway console: one page over the management API (no build step; Preact + htm + uPlot
// served from the package's node_modules).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, html } from './api.js';
import { EventsPanel } from './events.js';
import { CountersPanel } from './charts.js';
import { SettingsPanel, TokenForm } from './settings.js';

function App() {
  const [session, setSession] = useState({ tokenRequired: false });
  const [health, setHealth] = useState(null);
  const [message, setMessage] = useState({ text: '', error: false });
  const say = (text, error = false) => setMessage({ text, error });
  useEffect(() => {
    api('GET', '/console/session').then(setSession).catch(() => undefined);
    api('GET', '/healthz').then(setHealth).catch(() => undefined);
  }, []);
  return html`<a class="skip" href="#events-title">Skip to the event log</a>
    <header>
      <h1>omsgw gateway console</h1>
      <p class="health">${health ? `Proxy ${health.proxy ? `${health.proxy.host}:${health.proxy.port}` : ''} · ${health.status}` : ''}</p>
      <${TokenForm} tokenRequired=${session.tokenRequired} onChange=${say} />
      <p class=${message.error ? 'message error' : 'message'} role="status" aria-live="polite">${message.text}</p>
    </header>
    <main>
      <${EventsPanel} />
      <${CountersPanel} />
      <${SettingsPanel} say=${say} />
    </main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading…" placeholder
render(html`<${App} />`, root);
