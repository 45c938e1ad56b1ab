import { isIPv4 } from 'node:net';
import { InputError } from '../lib/errors.js';
import { ManualClock, systemClock, type Clock } from '../lib/clock.js';
import { AdminServer, type AdminBackend } from './admin/admin-server.js';
import { GatewayManagement } from './admin/management.js';
import { parseResetTime } from './counters/daily-distinct-clients.js';
import { GatewayCounters, type CountersSnapshot } from './counters/counters.js';
import { FdWatch } from './resources/fd-watch.js';
import { EventLog } from './events/event-log.js';
import { createMetrics } from './metrics.js';
import { formatRelayProxy } from './routes/relay.js';
import { ProxyServer } from './server.js';
import { validatePartialConfig, withDefaults, type GatewayConfig } from './config/schema.js';
import { FileWatcher } from './settings/file-watch.js';
import { GatewayState } from './settings/gateway-state.js';
import { isEmptyDiff, summariseDiff, type ListDiff } from './settings/settings-diff.js';
import { TlsInspector } from './tls/inspector.js';
import type { TlsPolicyInput } from './tls/types.js';

export type { GatewayConfig } from './config/schema.js';
export type { GatewayEvent } from './events/event-log.js';
export type { CountersSnapshot } from './counters/counters.js';

export interface GatewayOptions extends Partial<Omit<GatewayConfig, 'tls'>> {
  /** A TLS preset ("policy") and/or the fields to change; the rest keep their defaults (validated like gateway.json's "tls"). */
  tls?: TlsPolicyInput;
  /** Drives the daily Connected Client reset and event times; a ManualClock also enables POST /api/clock/advance. */
  clock?: Clock;
  /** Times the idle-tunnel sweep (idleTimeoutMs). Real time unless a test injects a clock; `clock` never drives it. */
  socketClock?: Clock;
  /** gateway.json this configuration came from: PUT /api/config writes changes back to it, reload re-reads it. */
  configFile?: string;
  /** Settings given on the command line: they win over gateway.json, also on reload. */
  pinnedKeys?: string[];
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
  hosts: ListDiff;
  clientSubjects: ListDiff;
  hostMap: ListDiff;
  /** Live settings changed from gateway.json, key -> from/to (secrets masked). */
  settings: Record<string, { from: unknown; to: unknown }>;
  /** gateway.json changes that only a restart applies. */
  restartRequired: string[];
}

const OPTION_ONLY = new Set(['clock', 'socketClock', 'configFile', 'pinnedKeys']);

/** Builds a gateway from options (validated now: InputError on bad options, nothing started). */
export function createGateway(options: GatewayOptions = {}): Gateway {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (!OPTION_ONLY.has(k)) raw[k] = v;
  const config = withDefaults(validatePartialConfig(raw, (k) => `gateway option "${k}"`, 'gateway options'));
  return new GatewayImpl(config, options.clock ?? systemClock, options.configFile, new Set(options.pinnedKeys ?? []), options.socketClock ?? systemClock);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

/** The gateway's lifecycle: start, reload, close. Settings live in GatewayState; changes go through GatewayManagement. */
class GatewayImpl implements Gateway {
  readonly events: EventLog;
  private readonly countersImpl: GatewayCounters;
  private readonly proxy: ProxyServer;
  private readonly state: GatewayState;
  private readonly management: GatewayManagement;
  private admin?: AdminServer;
  private proxyAddr?: Address;
  private adminAddr?: Address;
  private watcher?: FileWatcher;
  private readonly fdWatch: FdWatch;
  private lifecycle: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';
  private closePromise?: Promise<void>;

  constructor(config: GatewayConfig, private readonly clock: Clock, configFile: string | undefined, pinned: ReadonlySet<string>, socketClock: Clock) {
    if (config.adminPort !== null && !isLoopback(config.adminHost) && !config.adminToken) {
      throw new InputError(`the management API would listen on ${config.adminHost}, off loopback, without a token: set adminToken (--admin-token) or bind it to 127.0.0.1`);
    }
    const resetMinutes = parseResetTime(config.connectedClientsResetTime, 'connectedClientsResetTime');
    this.state = new GatewayState(config, configFile, pinned);
    this.events = new EventLog({ capacity: config.eventRingSize, clock, file: config.eventLog, fileMaxBytes: config.eventLogMaxBytes, fileKeep: config.eventLogKeep });
    this.management = new GatewayManagement(this.state, this.events);
    this.countersImpl = new GatewayCounters({
      clock,
      resetMinutes,
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
      settings: () => this.state.live,
      createInspector: (o) => new TlsInspector(o),
      debugEvents: config.debugEvents,
      socketClock,
    });
    this.fdWatch = new FdWatch({ clock, episodes: this.events.resources, openConnections: () => this.proxy.connectionCount });
  }

  get config(): Readonly<GatewayConfig> {
    return this.state.config;
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

  async start(): Promise<void> {
    if (this.lifecycle !== 'new') throw new Error(`gateway cannot start: it is ${this.lifecycle}`);
    this.lifecycle = 'starting';
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
      this.lifecycle = 'closed';
      throw err;
    }
    this.countersImpl.start();
    this.fdWatch.start();
    if (c.watch) {
      const files = [c.allowlistFile, c.clientAllowlistFile, c.hostMapFile].filter((f): f is string => !!f);
      // a failure is already logged as 401 by reload(); the previous settings stay
      this.watcher = new FileWatcher(files, () => void this.reload('file changed (--watch)').catch(() => undefined));
      this.watcher.start();
    }
    this.lifecycle = 'running';
    const l = this.state.live;
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

  /** Re-reads every file (allowlists, host map, gateway.json) and applies what can change live, all or nothing. */
  async reload(reason = 'reload requested'): Promise<ReloadResult> {
    let plan: ReturnType<GatewayState['planReload']>;
    try {
      plan = this.state.planReload();
    } catch (err) {
      this.events.log(401, `Reload (${reason}) failed, previous settings kept: ${err instanceof Error ? err.message : String(err)}`, { fields: { reason } });
      throw err;
    }
    this.state.commit({ config: plan.config, live: plan.live, files: plan.files, fileKeys: plan.fileKeys });
    const { diff, pendingRestart } = plan;
    const summary = summariseDiff(diff, pendingRestart);
    this.events.log(100, `Configuration reloaded (${reason}): ${summary}`, {
      fields: { reason, hosts: diff.hosts, clientSubjects: diff.clientSubjects, hostMap: diff.hostMap, settings: diff.settings, restartRequired: pendingRestart },
    });
    return { changed: !isEmptyDiff(diff), summary, hosts: diff.hosts, clientSubjects: diff.clientSubjects, hostMap: diff.hostMap, settings: diff.settings, restartRequired: pendingRestart };
  }

  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    const wasRunning = this.lifecycle === 'running';
    this.lifecycle = 'closing';
    this.watcher?.close();
    this.fdWatch.close();
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
    this.lifecycle = 'closed';
  }

  private backend(): AdminBackend {
    const m = this.management;
    return {
      events: this.events,
      metrics: createMetrics(this.countersImpl, this.events),
      counters: () => this.countersImpl.snapshot(),
      listHosts: () => this.state.live.allowlist.hosts,
      addHosts: (v) => m.changeHosts(v, 'add'),
      removeHosts: (v) => m.changeHosts(v, 'remove'),
      listSubjects: () => this.state.live.clientAllowlist,
      addSubjects: (v) => m.changeSubjects(v, 'add'),
      removeSubjects: (v) => m.changeSubjects(v, 'remove'),
      getConfig: () => m.describeConfig({ proxy: this.proxyAddr ?? null, admin: this.adminAddr ?? null }),
      putConfig: (patch) => m.putConfig(patch),
      reload: async () => ({ ...(await this.reload('POST /api/reload')) }),
      manualClock: this.clock instanceof ManualClock ? this.clock : undefined,
      health: () => ({ status: this.lifecycle === 'running' ? 'ok' : this.lifecycle, proxy: this.proxyAddr, connections: this.proxy.connectionCount, tunnels: this.proxy.tunnelCount }),
    };
  }
}

function fmtAddr(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
