// Allowlists, settings, relay proxy and reload: every change goes through the management API with
// the admin token (when one is set) in the Authorization header.
import { useEffect, useState } from 'preact/hooks';
import { api, describeError, hasToken, html, setToken } from './api.js';

const SECRET_KEY = /token|password|secret|auth/i;

/** Defence in depth: the API already masks credentials; never show one even if it did not. */
function masked(key, value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value, (k, v) => (k && SECRET_KEY.test(k) && typeof v === 'string' && v !== '****' ? '****' : v));
  const text = String(value);
  if (SECRET_KEY.test(key) && text !== '****' && !text.endsWith(':****')) return '****';
  return text.replace(/\/\/([^:@/]+):([^@/]+)@/, (_m, user) => `//${user}:****@`);
}

export function TokenForm({ tokenRequired, onChange }) {
  const [value, setValue] = useState('');
  const [set, setSet] = useState(hasToken());
  const apply = (ev) => {
    ev.preventDefault();
    setToken(value);
    setValue('');
    setSet(value !== '');
    onChange(value === '' ? 'Admin token forgotten.' : 'Admin token set for this page (kept in memory only).');
  };
  return html`<form class="token" onSubmit=${apply} aria-label="Admin token">
    <label>Admin token <input type="password" autocomplete="off" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} aria-describedby="token-help" /></label>
    <button type="submit">${value === '' && set ? 'Forget token' : 'Use token'}</button>
    <span id="token-help" class="hint">${tokenRequired ? `Changes need the admin token. ${set ? 'A token is set.' : 'No token set.'}` : 'This gateway takes changes without a token (loopback, no --admin-token).'}</span>
  </form>`;
}

function ListEditor({ title, noun, path, plural, field, say, version }) {
  const [entries, setEntries] = useState([]);
  const [value, setValue] = useState('');
  const load = () => api('GET', path).then((r) => setEntries(r[plural])).catch((err) => say(describeError(err), true));
  useEffect(() => {
    load();
  }, [version]);
  const change = async (method, v) => {
    try {
      const r = await api(method, path, { [field]: v });
      setEntries(r[plural]);
      say(`${method === 'POST' ? 'Added' : 'Removed'} ${noun} ${v}${r.persisted ? ` (saved to ${r.file})` : ' (in memory only)'}.`);
      if (method === 'POST') setValue('');
    } catch (err) {
      say(describeError(err), true);
    }
  };
  const id = `add-${field}`;
  return html`<section class="list" aria-labelledby=${`${id}-title`} data-list=${plural}>
    <h3 id=${`${id}-title`}>${title}</h3>
    <ul>
      ${entries.length === 0 ? html`<li class="empty">none</li>` : entries.map((e) => html`<li key=${e}><span class="entry">${e}</span> <button type="button" aria-label=${`Remove ${noun} ${e}`} onClick=${() => change('DELETE', e)}>Remove</button></li>`)}
    </ul>
    <form onSubmit=${(ev) => { ev.preventDefault(); if (value.trim()) change('POST', value.trim()); }}>
      <label for=${id}>${noun === 'host' ? 'Host to allow' : 'Certificate subject to allow'}</label>
      <input id=${id} value=${value} onInput=${(e) => setValue(e.currentTarget.value)} maxlength="1000" required />
      <button type="submit">${noun === 'host' ? 'Add host' : 'Add subject'}</button>
    </form>
  </section>`;
}

function RelayForm({ relay, say, onSaved }) {
  const [address, setAddress] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const save = async (ev) => {
    ev.preventDefault();
    let relayProxy = null;
    if (address.trim()) {
      const a = address.trim().replace(/^http:\/\//, '');
      const cred = username ? `${encodeURIComponent(username)}${password ? ':' + encodeURIComponent(password) : ''}@` : '';
      relayProxy = `http://${cred}${a}`;
    }
    try {
      await api('PUT', '/api/config', { relayProxy });
      setPassword('');
      say(relayProxy ? 'Relay proxy set; new connections go through it.' : 'Relay proxy removed; new connections go direct.');
      onSaved();
    } catch (err) {
      say(describeError(err), true);
    }
  };
  return html`<form class="relay" onSubmit=${save} aria-labelledby="relay-title">
    <h3 id="relay-title">Relay proxy</h3>
    <p>Now: ${relay ? html`<code>${masked('address', relay.address)}</code>${relay.username ? ` as ${relay.username}` : ''}${relay.password ? ' (password set)' : ''}` : 'direct (no relay proxy)'}</p>
    <label>Relay address (host:port, blank = direct) <input value=${address} onInput=${(e) => setAddress(e.currentTarget.value)} placeholder="proxy.corp:3128" maxlength="300" /></label>
    <label>Relay username <input value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} autocomplete="off" maxlength="200" /></label>
    <label>Relay password <input type="password" value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} autocomplete="off" maxlength="200" /></label>
    <button type="submit">Save relay proxy</button>
  </form>`;
}

export function SettingsPanel({ say }) {
  const [config, setConfig] = useState(null);
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  // A restarted gateway re-read its files: show its lists and settings, not the old process's.
  useEffect(() => {
    window.addEventListener('omsgw-gateway-restarted', refresh);
    return () => window.removeEventListener('omsgw-gateway-restarted', refresh);
  }, []);
  useEffect(() => {
    api('GET', '/api/config').then(setConfig).catch((err) => say(describeError(err), true));
  }, [version]);
  const reload = async () => {
    try {
      const r = await api('POST', '/api/reload');
      say(`Reloaded: ${r.summary ?? 'done'}`);
      refresh();
    } catch (err) {
      say(describeError(err), true);
    }
  };
  const rows = config ? Object.entries(config.config ?? {}) : [];
  return html`<section aria-labelledby="settings-title" class="panel settings">
    <h2 id="settings-title">Allowlists and settings</h2>
    <button type="button" class="reload" onClick=${reload}>Reload allowlist files</button>
    <div class="lists">
      <${ListEditor} title="Allowed hosts (allowedlist_server.txt)" noun="host" path="/api/allowlist/hosts" plural="hosts" field="host" say=${say} version=${version} />
      <${ListEditor} title="Allowed client certificate subjects (allowedlist_client.txt)" noun="subject" path="/api/allowlist/client-certificates" plural="subjects" field="subject" say=${say} version=${version} />
    </div>
    <${RelayForm} relay=${config?.relayProxy} say=${say} onSaved=${refresh} />
    <h3>Settings</h3>
    <table class="config">
      <caption class="visually-hidden">Gateway settings; credentials are masked</caption>
      <tbody>${rows.map(([k, v]) => html`<tr key=${k}><th scope="row">${k}</th><td>${masked(k, v)}</td></tr>`)}</tbody>
    </table>
  </section>`;
}
