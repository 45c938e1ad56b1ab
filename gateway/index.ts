import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isIPv4 } from 'node:net';
import { InputError } from '../lib/errors.js';
import { ManualClock, systemClock, type Clock } from '../lib/clock.js';
import { addEntryToText, loadClientAllowlist, loadServerAllowlist, readTextFile, removeEntryFromText, sameHost, sameSubject } from './allowlist/allowlist-file.js';
import { hostPatternProblem, normaliseHost } from './allowlist/host-pattern.js';
import { ServerAllowlist } from './allowlist/server-allowlist.js';
import { AdminServer, type AdminBackend, type ListChange } from './admin/admin-server.js';
import { parseResetTime } from './counters/daily-distinct-clients.js';
import { GatewayCounters, type CountersSnapshot } from './counters/counters.js';
import { EventLog } from './events/event-log.js';
import { ProxyCredentials, type LiveSettings } from './live-settings.js';
import { createMetrics } from './metrics.js';
import { HostMap, loadHostMapFile } from './routes/host-map.js';
import { formatRelayProxy, maskRelayUrl, parseRelayProxy } from './routes/relay.js';
import { ProxyServer } from './server.js';
import { CONFIG_KEYS, FIELDS, validatePartialConfig, withDefaults, type GatewayConfig } from './config/schema.js';
import { updateJsonFile, writeFileAtomic } from './config/persist.js';
import { parseClientSubjectEntry } from './tls/client-allowlist.js';
import { TlsInspector } from './tls/inspector.js';
import type { TlsPolicy } from './tls/types.js';

export type { GatewayConfig } from './config/schema.js';
export type { GatewayEvent } from './events/event-log.js';
export type { CountersSnapshot } from './counters/counters.js';

export interface GatewayOptions extends Partial<Omit<GatewayConfig, 'tls'>> {
  /** Only the TLS policy fields to change; the rest keep their defaults (validated like gateway.json's "tls"). */
  tls?: Partial<TlsPolicy>;
  /** Drives the daily Connected Client reset and event times; a ManualClock also enables POST /api/clock/advance. */
  clock?: Clock;
  /** gateway.json this configuration came from: PUT /api/config writes changes back to it. */
  configFile?: string;
}

export interface Address {
  host: string;
  port: number;
}

export interface Gateway {
  start(): Promise<void>;
  readonly proxyAddress: Address;
  readonly adminAddress: Address | undefined;
  readonly events: EventLog;
  readonly counters: { snapshot(): CountersSnapshot };
  readonly config: Readonly<GatewayConfig>;
  reload(reason?: string): Promise<ReloadResult>;
  close(): Promise<void>;
}

export interface ReloadResult {
  changed: boolean;
  summary: string;
  hosts: { added: string[]; removed: string[] };
  clientSubjects: { added: string[]; removed: string[] };
  hostMap: { added: string[]; removed: string[] };
}

const OPTION_ONLY = new Set(['clock', 'configFile']);

/** Builds a gateway from options (validated now: InputError on bad options, nothing started). */
export function createGateway(options: GatewayOptions = {}): Gateway {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (!OPTION_ONLY.has(k)) raw[k] = v;
  const config = withDefaults(validatePartialConfig(raw, (k) => `gateway option "${k}"`, 'gateway options'));
  return new GatewayImpl(config, options.clock ?? systemClock, options.configFile);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

function diff(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  return { added: after.filter((x) => !before.includes(x)), removed: before.filter((x) => !after.includes(x)) };
}

class GatewayImpl implements Gateway {
  readonly events: EventLog;
  private readonly countersImpl: GatewayCounters;
  private readonly proxy: ProxyServer;
  private admin?: AdminServer;
  private live: LiveSettings;
  private proxyAddr?: Address;
  private adminAddr?: Address;
  private watchers: FSWatcher[] = [];
  private watchTimer?: NodeJS.Timeout;
  private state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';
  private closePromise?: Promise<void>;
  private readonly resetMinutes: number;

  constructor(readonly config: GatewayConfig, private readonly clock: Clock, private readonly configFile?: string) {
    if (config.adminPort !== null && !isLoopback(config.adminHost) && !config.adminToken) {
      throw new InputError(`the management API would listen on ${config.adminHost}, off loopback, without a token: set adminToken (--admin-token) or bind it to 127.0.0.1`);
    }
    this.resetMinutes = parseResetTime(config.connectedClientsResetTime, 'connectedClientsResetTime');
    this.live = this.buildSettings();
    this.events = new EventLog({ capacity: config.eventRingSize, clock, file: config.eventLog });
    this.countersImpl = new GatewayCounters({
      clock,
      resetMinutes: this.resetMinutes,
      windowMinutes: config.connectedClientsWindowMinutes,
      liveBytes: () => this.proxy.liveBytes(),
      onDailyReset: (cleared, at) =>
        this.events.log(100, `Connected Client counter reset (daily at ${config.connectedClientsResetTime} UTC); ${cleared} client(s) cleared`, { fields: { cleared, resetAt: new Date(at).toISOString() } }),
    });
    this.events.on('event', (e) => this.countersImpl.countEvent(e));
    this.proxy = new ProxyServer({
      events: this.events,
      counters: this.countersImpl,
      limits: config,
      settings: () => this.live,
      createInspector: (o) => new TlsInspector(o),
      debugEvents: config.debugEvents,
    });
  }

  get proxyAddress(): Address {
    if (!this.proxyAddr) throw new Error('gateway is not started');
    return this.proxyAddr;
  }

  get adminAddress(): Address | undefined {
    return this.adminAddr;
  }

  get counters(): { snapshot(): CountersSnapshot } {
    return this.countersImpl;
  }

  /** Reads the allowlist and host-map files and builds the policy for new connections. */
  private buildSettings(): LiveSettings {
    const c = this.config;
    const hosts = [...(c.allowlistFile ? loadServerAllowlist(c.allowlistFile) : [])];
    for (const [i, h] of c.allowlist.entries()) {
      const host = normaliseHost(h);
      const problem = hostPatternProblem(host);
      if (problem) throw new InputError(`allowlist[${i}]: ${problem}`);
      if (!hosts.includes(host)) hosts.push(host);
    }
    const subjects = [...(c.clientAllowlistFile ? loadClientAllowlist(c.clientAllowlistFile) : [])];
    for (const [i, s] of c.clientAllowlist.entries()) {
      const subject = parseClientSubjectEntry(s, `clientAllowlist[${i}]`);
      if (!subjects.includes(subject)) subjects.push(subject);
    }
    const mapEntries = [...(c.hostMapFile ? loadHostMapFile(c.hostMapFile) : []), ...c.hostMap];
    return {
      allowlist: new ServerAllowlist(hosts),
      clientAllowlist: subjects,
      hostMap: new HostMap(mapEntries),
      relay: c.relayProxy ? parseRelayProxy(c.relayProxy, 'relayProxy') : undefined,
      proxyAuth: c.proxyAuth ? ProxyCredentials.parse(c.proxyAuth) : undefined,
      allowedPorts: new Set(c.allowedPorts),
      allowPrivateUpstream: c.allowPrivateUpstream,
      tlsInspection: c.tlsInspection,
      tlsPolicy: c.tls,
    };
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`gateway cannot start: it is ${this.state}`);
    this.state = 'starting';
    const c = this.config;
    try {
      this.events.open();
      this.proxyAddr = await this.proxy.listen(c.listenHost, c.listenPort).catch((err: NodeJS.ErrnoException) => {
        throw new InputError(`cannot listen on ${c.listenHost}:${c.listenPort}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (port in use; choose another with --listen-port)' : ''}`);
      });
      if (c.adminPort !== null) {
        this.admin = new AdminServer({ backend: this.backend(), token: c.adminToken });
        this.adminAddr = await this.admin.listen(c.adminHost, c.adminPort).catch((err: NodeJS.ErrnoException) => {
          throw new InputError(`cannot listen for the management API on ${c.adminHost}:${c.adminPort}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (port in use; choose another with --admin-port)' : ''}`);
        });
      }
    } catch (err) {
      await this.proxy.stopAccepting();
      await this.admin?.close();
      await this.events.close();
      this.state = 'closed';
      throw err;
    }
    this.countersImpl.start();
    if (c.watch) this.startWatching();
    this.state = 'running';
    const l = this.live;
    const admin = this.adminAddr ? `${fmtAddr(this.adminAddr)}` : 'off';
    this.events.log(
      101,
      `Service started: listening on ${fmtAddr(this.proxyAddr)} (management API ${admin}); server allowlist ${l.allowlist.size} host(s), client allowlist ${l.clientAllowlist.length} subject(s)`,
      {
        fields: {
          listen: fmtAddr(this.proxyAddr),
          admin,
          allowlistSize: l.allowlist.size,
          clientAllowlistSize: l.clientAllowlist.length,
          hostMapSize: l.hostMap.entries.length,
          relayProxy: l.relay ? formatRelayProxy(l.relay) : null,
          tlsInspection: l.tlsInspection,
          proxyAuth: !!l.proxyAuth,
        },
      },
    );
  }

  async reload(reason = 'reload requested'): Promise<ReloadResult> {
    const before = this.live;
    let next: LiveSettings;
    try {
      next = this.buildSettings();
    } catch (err) {
      this.events.log(401, `Reload (${reason}) failed, previous settings kept: ${err instanceof Error ? err.message : String(err)}`, { fields: { reason } });
      throw err;
    }
    this.live = next;
    const hosts = diff(before.allowlist.hosts, next.allowlist.hosts);
    const clientSubjects = diff(before.clientAllowlist, next.clientAllowlist);
    const hostMap = diff(before.hostMap.entries, next.hostMap.entries);
    const parts: string[] = [];
    const say = (what: string, d: { added: string[]; removed: string[] }) => {
      if (d.added.length) parts.push(`${what} added: ${d.added.join(', ')}`);
      if (d.removed.length) parts.push(`${what} removed: ${d.removed.join(', ')}`);
    };
    say('server allowlist', hosts);
    say('client allowlist', clientSubjects);
    say('host map', hostMap);
    const summary = parts.length ? parts.join('; ') : 'no changes';
    this.events.log(100, `Configuration reloaded (${reason}): ${summary}`, { fields: { reason, hosts, clientSubjects, hostMap } });
    return { changed: parts.length > 0, summary, hosts, clientSubjects, hostMap };
  }

  private startWatching(): void {
    const files = [this.config.allowlistFile, this.config.clientAllowlistFile, this.config.hostMapFile].filter((f): f is string => !!f).map((f) => resolve(f));
    const dirs = new Map<string, Set<string>>();
    for (const f of files) {
      const set = dirs.get(dirname(f)) ?? new Set<string>();
      set.add(basename(f));
      dirs.set(dirname(f), set);
    }
    for (const [dir, names] of dirs) {
      // Watch the folder: editors replace files by renaming, which a watch on the file itself would miss.
      const w = watch(dir, (_type, name) => {
        if (name && !names.has(name.toString())) return;
        if (this.watchTimer) clearTimeout(this.watchTimer);
        this.watchTimer = setTimeout(() => {
          this.watchTimer = undefined;
          // a failure is already logged as 401 by reload(); the previous settings stay
          this.reload('file changed (--watch)').catch(() => undefined);
        }, 100);
        this.watchTimer.unref();
      });
      w.on('error', () => undefined);
      this.watchers.push(w);
    }
  }

  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'closing';
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.watchTimer) clearTimeout(this.watchTimer);
    await this.proxy.stopAccepting();
    if (wasRunning) {
      const open = this.proxy.connectionCount;
      this.events.log(102, `Service stopped: no longer accepting connections; draining ${open} open connection(s) for up to ${this.config.drainTimeoutMs} ms`, { fields: { openConnections: open } });
    }
    const forced = await this.proxy.drain(this.config.drainTimeoutMs);
    if (forced > 0) this.events.log(100, `Drain timeout: closed ${forced} connection(s) that were still open`, { fields: { forced } });
    await this.admin?.close();
    this.countersImpl.stop();
    await this.events.close();
    this.state = 'closed';
  }

  // ---- management API backend ----

  private backend(): AdminBackend {
    return {
      events: this.events,
      metrics: createMetrics(this.countersImpl, this.events),
      counters: () => this.countersImpl.snapshot(),
      listHosts: () => this.live.allowlist.hosts,
      addHosts: (v) => this.changeHosts(v, 'add'),
      removeHosts: (v) => this.changeHosts(v, 'remove'),
      listSubjects: () => this.live.clientAllowlist,
      addSubjects: (v) => this.changeSubjects(v, 'add'),
      removeSubjects: (v) => this.changeSubjects(v, 'remove'),
      getConfig: () => this.describeConfig(),
      putConfig: (patch) => this.putConfig(patch),
      reload: async () => ({ ...(await this.reload('POST /api/reload')) }),
      manualClock: this.clock instanceof ManualClock ? this.clock : undefined,
      health: () => ({ status: this.state === 'running' ? 'ok' : this.state, proxy: this.proxyAddr, connections: this.proxy.connectionCount, tunnels: this.proxy.tunnelCount }),
    };
  }

  /** Applies a host change live and, when there is an allowlist file, writes it there too. */
  private async changeHosts(values: string[], op: 'add' | 'remove'): Promise<ListChange> {
    const hosts = values.map((v, i) => {
      const h = normaliseHost(v);
      const problem = hostPatternProblem(h);
      if (problem) throw new InputError(`host ${i === 0 && values.length === 1 ? '' : `[${i}] `}${JSON.stringify(v)}: ${problem}`);
      return h;
    });
    return this.changeList(hosts, op, this.config.allowlistFile, this.config.allowlist, sameHost, 'server allowlist', () => this.live.allowlist.hosts);
  }

  private async changeSubjects(values: string[], op: 'add' | 'remove'): Promise<ListChange> {
    const subjects = values.map((v, i) => parseClientSubjectEntry(v, `subject${values.length > 1 ? `[${i}]` : ''}`));
    return this.changeList(subjects, op, this.config.clientAllowlistFile, this.config.clientAllowlist, sameSubject, 'client allowlist', () => this.live.clientAllowlist);
  }

  private async changeList(
    values: string[],
    op: 'add' | 'remove',
    file: string | undefined,
    inline: string[],
    same: (a: string, b: string) => boolean,
    what: string,
    current: () => readonly string[],
  ): Promise<ListChange> {
    const before = [...current()];
    if (file) {
      let text = readTextFile(file, what);
      for (const v of values) text = (op === 'add' ? addEntryToText(text, v, same) : removeEntryFromText(text, v, same)).text;
      writeFileAtomic(file, text);
    }
    for (const v of values) {
      const i = inline.findIndex((x) => same(x, v));
      if (op === 'remove' && i >= 0) inline.splice(i, 1);
      if (op === 'add' && !file && i < 0) inline.push(v);
    }
    this.live = this.buildSettings();
    const after = current();
    const changed = op === 'add' ? after.filter((x) => !before.includes(x)) : before.filter((x) => !after.includes(x));
    if (changed.length) this.events.log(100, `${what}: ${op === 'add' ? 'added' : 'removed'} ${changed.join(', ')} (management API; applies to new connections now)`, { fields: { op, values: changed, file: file ?? null } });
    return { entries: after, changed, persisted: !!file, file };
  }

  private describeConfig(): Record<string, unknown> {
    const c = this.config;
    const shown: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) if (c[k] !== undefined) shown[k] = c[k];
    if (c.relayProxy) shown.relayProxy = maskRelayUrl(formatRelayProxy(parseRelayProxy(c.relayProxy, 'relayProxy'), false));
    if (c.proxyAuth) shown.proxyAuth = `${c.proxyAuth.slice(0, c.proxyAuth.indexOf(':'))}:****`;
    if (c.adminToken) shown.adminToken = '****';
    return {
      config: shown,
      configFile: this.configFile ?? null,
      proxy: this.proxyAddr ?? null,
      admin: this.adminAddr ?? null,
      relayProxy: this.live.relay ? { address: `http://${this.live.relay.host.includes(':') ? `[${this.live.relay.host}]` : this.live.relay.host}:${this.live.relay.port}`, username: this.live.relay.username ?? null, password: this.live.relay.password !== undefined ? '****' : null } : null,
    };
  }

  private static readonly LIVE_KEYS = new Set(['relayProxy', 'allowedPorts', 'allowPrivateUpstream', 'tlsInspection', 'tls', 'hostMap']);
  private static readonly RESTART_KEYS = new Set(['listenPort', 'listenHost', 'connectedClientsResetTime', 'connectedClientsWindowMinutes', 'maxConnections', 'idleTimeoutMs', 'headerTimeoutMs', 'maxHeadBytes', 'connectTimeoutMs', 'drainTimeoutMs']);

  /** PUT /api/config: live keys apply to new connections now; the rest are saved for the next start. */
  private async putConfig(patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    const applied: string[] = [];
    const restartRequired: string[] = [];
    const validated: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (!GatewayImpl.LIVE_KEYS.has(k) && !GatewayImpl.RESTART_KEYS.has(k)) {
        throw new InputError(`"${k}" cannot be changed through the API (changeable: ${[...GatewayImpl.LIVE_KEYS, ...GatewayImpl.RESTART_KEYS].join(', ')})`);
      }
      validated[k] = v === null && k === 'relayProxy' ? undefined : (FIELDS as Record<string, (v: unknown, w: string) => unknown>)[k](v, `"${k}"`);
    }
    const restartOnly = Object.keys(validated).filter((k) => GatewayImpl.RESTART_KEYS.has(k));
    if (!this.configFile && restartOnly.length > 0) {
      throw new InputError(`${restartOnly.join(', ')} only take${restartOnly.length === 1 ? 's' : ''} effect after a restart, and this gateway has no config file to save ${restartOnly.length === 1 ? 'it' : 'them'} in (start it with --config or --dir)`);
    }
    const previous = { ...this.config };
    const mutable = this.config as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(validated)) {
      if (GatewayImpl.LIVE_KEYS.has(k)) {
        mutable[k] = v;
        applied.push(k);
      } else restartRequired.push(k);
    }
    try {
      this.live = this.buildSettings();
    } catch (err) {
      Object.assign(mutable, previous);
      throw err;
    }
    if (this.configFile) updateJsonFile(this.configFile, validated);
    const shown = Object.keys(validated).map((k) => (k === 'relayProxy' ? `relayProxy=${validated[k] ? maskRelayUrl(String(validated[k])) : '(none)'}` : `${k}=${JSON.stringify(validated[k])}`));
    this.events.log(100, `Configuration changed through the management API: ${shown.join(', ')}${restartRequired.length ? ` (${restartRequired.join(', ')} after restart)` : ''}`, { fields: { applied, restartRequired } });
    return { ...this.describeConfig(), applied, restartRequired, persisted: !!this.configFile };
  }
}

function fmtAddr(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
