import { InputError } from '../../lib/errors.js';
import { allowlistWhat, editAllowlistFile, sameHost, sameSubject, type AllowlistKind } from '../allowlist/allowlist-file.js';
import { hostPatternProblem, normaliseHost } from '../allowlist/host-pattern.js';
import { ServerAllowlist } from '../allowlist/server-allowlist.js';
import { editJsonFile } from '../config/edit-file.js';
import { isLiveKey, RESTART_REQUIRED } from '../config/live-keys.js';
import { parseTlsPolicy } from '../tls/policy.js';
import { CONFIG_KEYS, isConfigKey, validatePartialConfig, validateSetting, type GatewayConfig } from '../config/schema.js';
import type { EventLog } from '../events/event-log.js';
import { formatRelayProxy, parseRelayProxy } from '../routes/relay.js';
import { parseClientSubjectEntry } from '../tls/client-allowlist.js';
import { configPart, hostMapOf } from '../settings/build-settings.js';
import { shownValue, type GatewayState } from '../settings/gateway-state.js';
import type { ListChange } from './admin-server.js';

/** Settings PUT /api/config applies at once (the file-backed ones change through their own routes or a reload). */
const PUT_KEYS = new Set(['relayProxy', 'proxyAuth', 'allowedPorts', 'allowPrivateUpstream', 'tlsInspection', 'tls', 'hostMap']);

/**
 * Management changes as transactions: each applies exactly what was asked to the live settings
 * (never re-reading other files, so pending file edits stay pending), is saved first (a locked,
 * validated, atomic file edit: when saving fails nothing is applied), and is logged as event 100
 * with the exact change.
 */
export class GatewayManagement {
  constructor(private readonly state: GatewayState, private readonly events: EventLog, private readonly lockTimeoutMs = 10_000) {}

  changeHosts(values: string[], op: 'add' | 'remove'): Promise<ListChange> {
    const hosts = values.map((v, i) => {
      const h = normaliseHost(v);
      const problem = hostPatternProblem(h);
      if (problem) throw new InputError(`host ${values.length === 1 ? '' : `[${i}] `}${JSON.stringify(v)}: ${problem}`);
      return h;
    });
    return this.changeList('hosts', hosts, op);
  }

  changeSubjects(values: string[], op: 'add' | 'remove'): Promise<ListChange> {
    return this.changeList('subjects', values.map((v, i) => parseClientSubjectEntry(v, `subject${values.length > 1 ? `[${i}]` : ''}`)), op);
  }

  private async changeList(kind: AllowlistKind, values: string[], op: 'add' | 'remove'): Promise<ListChange> {
    const what = allowlistWhat(kind);
    const file = kind === 'hosts' ? this.state.config.allowlistFile : this.state.config.clientAllowlistFile;
    const same = kind === 'hosts' ? sameHost : sameSubject;
    // 1. save: only these entries, in one locked transaction (throws, and nothing is applied, on failure)
    const saved = file ? (await editAllowlistFile(file, kind, op, values, { lockTimeoutMs: this.lockTimeoutMs, createIfMissing: true })).changed : [];
    // 2. apply: only these entries, to the settings in force now (read after the await)
    const config = this.state.config;
    const live = this.state.live;
    const before = kind === 'hosts' ? live.allowlist.hosts : live.clientAllowlist;
    const after = op === 'add' ? [...before, ...values.filter((v) => !before.some((b) => same(b, v)))] : before.filter((b) => !values.some((v) => same(b, v)));
    const inlineKey = kind === 'hosts' ? 'allowlist' : 'clientAllowlist';
    let inline = config[inlineKey];
    if (op === 'remove') inline = inline.filter((x) => !values.some((v) => same(x, v)));
    else if (!file) inline = [...inline, ...values.filter((v) => !inline.some((x) => same(x, v)))];
    this.state.commit({
      config: { ...config, [inlineKey]: inline },
      live: kind === 'hosts' ? { ...live, allowlist: new ServerAllowlist(after) } : { ...live, clientAllowlist: after },
    });
    const applied = op === 'add' ? after.filter((x) => !before.includes(x)) : before.filter((x) => !after.includes(x));
    const changed = [...new Set([...applied, ...saved])];
    if (changed.length) {
      const where = file ? `saved in ${file}` : 'not saved: no allowlist file';
      this.events.log(100, `${what}: ${op === 'add' ? 'added' : 'removed'} ${changed.join(', ')} (management API; applies to new connections now; ${where})`, { fields: { list: kind, op, values: changed, file: file ?? null } });
    }
    return { entries: after, changed, persisted: !!file, file };
  }

  describeConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const c = this.state.config;
    const shown: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) if (c[k] !== undefined) shown[k] = shownValue(k, c[k]);
    if (c.relayProxy) shown.relayProxy = shownValue('relayProxy', formatRelayProxy(parseRelayProxy(c.relayProxy, 'relayProxy'), false));
    const relay = this.state.live.relay;
    return {
      config: shown,
      configFile: this.state.configFile ?? null,
      ...extra,
      live: { hostMap: this.state.live.hostMap.entries, hosts: this.state.live.allowlist.hosts, clientSubjects: this.state.live.clientAllowlist },
      relayProxy: relay ? { address: `http://${relay.host.includes(':') ? `[${relay.host}]` : relay.host}:${relay.port}`, username: relay.username ?? null, password: relay.password ? '****' : null } : null,
      pending: this.state.pending(),
    };
  }

  /** PUT /api/config: every key is applied live, or the whole request is refused (nothing changes). */
  async putConfig(patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    const validated: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (!isConfigKey(k)) throw new InputError(`"${k}" is not a known setting (known: ${CONFIG_KEYS.join(', ')})`);
      if (!PUT_KEYS.has(k)) {
        if (isLiveKey(k)) throw new InputError(`"${k}" names a file or list managed elsewhere: use the allowlist routes, or edit gateway.json and POST /api/reload`);
        throw new InputError(`"${k}" cannot change on a running gateway: ${RESTART_REQUIRED} (save it with \`omsgw config set ${k} <value> --dir <folder>\` and restart)`);
      }
      // tls: over the running policy, so a PUT changes only the TLS fields it names.
      if (k === 'tls' && v !== null) validated[k] = parseTlsPolicy(v, '"tls"', this.state.config.tls);
      else validated[k] = v === null ? undefined : validateSetting(k, v, `"${k}"`);
    }
    const before = this.state.config;
    const next = { ...before } as Record<string, unknown>;
    for (const [k, v] of Object.entries(validated)) {
      if (v === undefined) delete next[k];
      else next[k] = v;
    }
    const config = next as unknown as GatewayConfig;
    const live = { ...this.state.live, ...configPart(config), hostMap: hostMapOf(config, this.state.fileEntries) };
    const file = this.state.configFile;
    if (file) {
      await editJsonFile(file, Object.fromEntries(Object.keys(validated).map((k) => [k, validated[k]])), {
        what: 'config file',
        lockTimeoutMs: this.lockTimeoutMs,
        validate: (all) => void validatePartialConfig(all, (k) => `${file}: "${k}"`, `config file ${file}`),
      });
    }
    this.state.commit({ config, live });
    const changes = Object.fromEntries(Object.keys(validated).map((k) => [k, { from: shownValue(k, (before as Record<string, unknown>)[k]) ?? null, to: shownValue(k, validated[k]) ?? null }]));
    const shown = Object.entries(changes).map(([k, c]) => `${k}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`);
    this.events.log(100, `Configuration changed through the management API (live now${file ? `; saved in ${file}` : '; not saved: no config file'}): ${shown.join(', ')}`, { fields: { applied: Object.keys(validated), changes } });
    return { ...this.describeConfig(), applied: Object.keys(validated), restartRequired: [], persisted: !!file };
  }
}
