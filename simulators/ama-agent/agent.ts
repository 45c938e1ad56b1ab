import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.js';
import { Backoff } from '../agent-core/backoff.js';
import { AgentError, type AgentPhase } from '../agent-core/errors.js';
import { seededRandom } from '../agent-core/identity.js';
import { Ledger, type LedgerSummary } from '../agent-core/ledger.js';
import { failureOf } from '../agent-core/status.js';
import { ImdsServer } from '../../fake-oms-endpoints/ama/imds.js';
import { machineResourceId, type AmaMachine } from '../../fake-oms-endpoints/ama/machine.js';
import { channelForStream, type AgentConfiguration, type Channel } from './configuration.js';
import { ControlPlane } from './control-plane.js';
import { ImdsClient, type InstanceCompute, type ManagedIdentityToken } from './imds-client.js';
import { amaMachineFor } from './machine.js';
import { validateAmaOptions, type AmaAgentOptions } from './options.js';
import { resolveAmaProxy } from './proxy-settings.js';
import { collectRecords, RECORD_ID_FIELD } from './records.js';
import { AmaTransport } from './transport.js';
import { uploadBatch } from './uploads.js';
import { amaStatus, conditionMet, type AmaCondition, type AmaFailure, type AmaState, type AmaStatus } from './status.js';

export const AMA_VERSION = '1.33.1';

interface AmaEvents {
  configured: [AmaStatus];
  delivered: [{ dataType: string; count: number; recordIds: string[]; delivered: number }];
  failed: [{ phase: AgentPhase; error: AgentError }];
  tunnel: [{ target: string; localAddress?: string; localPort?: number }];
  log: [{ time: string; level: 'info' | 'warning' | 'error'; message: string; phase?: string }];
  status: [AmaStatus];
}

/** Renew tokens this long before they expire (assumed; the agent logs its next MSI refresh well ahead). */
const TOKEN_MARGIN_MS = 5 * 60_000;

/**
 * A simulated Azure Monitor Agent: managed-identity token from the machine's IMDS (on loopback,
 * never through the proxy), agent configuration from the handler (following 421 redirects),
 * ingestion tokens per channel, uploads to the ODS host or a DCE. Records are created only once a
 * configuration says what to collect, and stay queued (nothing lost) through any failure.
 */
export class AmaAgent extends EventEmitter<AmaEvents> {
  readonly os = 'ama' as const;
  readonly machine: AmaMachine;
  readonly ledger: Ledger;
  readonly bindAddress?: string;
  private readonly clock: Clock;
  private readonly dateClock: Clock;
  private readonly http: AmaTransport;
  private readonly random: () => number;
  private readonly configBackoff: Backoff;
  private readonly uploadBackoff: Backoff;
  private imdsServer?: ImdsServer;
  private imds?: ImdsClient;
  private compute?: InstanceCompute;
  private control?: ControlPlane;
  private msi?: ManagedIdentityToken;
  private readonly ingestionTokens = new Map<string, { token: string; expiresOn: number }>();
  private config?: AgentConfiguration;
  private state: AmaState = 'new';
  private errors = 0;
  private lastFailure?: AmaFailure;
  private started = false;
  private closed = false;
  private readonly timers = new Set<TimerHandle>();
  private configTimer?: TimerHandle;
  private uploadTimer?: TimerHandle;
  private nextRetryAt?: number;
  private configuring?: Promise<void>;
  private pumping?: Promise<void>;

  constructor(private readonly opts: AmaAgentOptions) {
    super();
    validateAmaOptions(opts);
    const proxy = resolveAmaProxy(opts.proxy);
    this.clock = opts.clock ?? systemClock;
    this.dateClock = opts.dateClock ?? this.clock;
    this.bindAddress = opts.bindAddress;
    this.machine = amaMachineFor(opts.seed, opts.index ?? 0, opts.workspaceId, opts.region ?? 'eastus', opts.platform ?? 'linux');
    this.random = seededRandom(opts.seed, (opts.index ?? 0) + 7919);
    this.ledger = new Ledger({ agentGuid: this.machine.principalId, queueLimit: opts.queueLimit ?? 10_000, now: () => this.clock.now() });
    this.http = new AmaTransport({
      proxy,
      direct: opts.direct,
      bindAddress: opts.bindAddress,
      caPem: opts.caPem,
      minVersion: opts.tls?.minVersion ?? 'TLSv1.2',
      maxVersion: opts.tls?.maxVersion ?? 'TLSv1.3',
      connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
      keepAlive: opts.keepAlive ?? false,
      now: () => this.dateClock.now(),
      onTunnel: (t) => this.emit('tunnel', t),
    });
    const r = opts.retry ?? {};
    this.configBackoff = new Backoff({ initialMs: r.initialMs ?? 30_000, maxMs: r.maxMs ?? 10 * 60_000, jitter: r.jitter ?? 0.2, random: this.random });
    this.uploadBackoff = new Backoff({ initialMs: r.initialMs ?? 30_000, maxMs: r.maxMs ?? 10 * 60_000, jitter: r.jitter ?? 0.2, random: this.random });
  }

  /** The managed identity's principal id: the agent id in the cloud's ledger. */
  get agentId(): string {
    return this.machine.principalId;
  }
  get configuration(): AgentConfiguration | undefined {
    return this.config;
  }
  /** Hosts the last configuration fetch went through (global, then where 421 sent it). */
  get handlerHops(): string[] {
    return this.control?.lastHops ?? [];
  }
  /** The agent's own IMDS (undefined when imdsUrl was given). */
  get imdsEndpoint(): ImdsServer | undefined {
    return this.imdsServer;
  }

  private log(level: 'info' | 'warning' | 'error', message: string, phase?: string): void {
    const e = { time: new Date(this.clock.now()).toISOString(), level, message, phase };
    this.emit('log', e);
    this.opts.logger?.({ ...e, agentId: this.agentId, hostname: this.machine.name });
  }

  private setState(s: AmaState): void {
    this.state = s;
    this.emit('status', this.status());
  }

  private fail(phase: AgentPhase, err: unknown): AgentError {
    const e = err instanceof AgentError ? (err.phase ? err : err.withPhase(phase)) : new AgentError((err as Error).message, 'protocol', { phase });
    this.errors++;
    this.lastFailure = failureOf(e.phase ?? phase, e, this.clock.now());
    this.log('error', `${e.phase ?? phase} failed: ${e.message}`, e.phase ?? phase);
    this.emit('failed', { phase: e.phase ?? phase, error: e });
    this.emit('status', this.status());
    return e;
  }

  private async msiToken(): Promise<string> {
    if (this.msi && this.msi.expiresOn - TOKEN_MARGIN_MS > this.dateClock.now()) return this.msi.accessToken;
    if (!this.imds) {
      let url = this.opts.imdsUrl;
      if (!url) {
        this.imdsServer = new ImdsServer({ caPem: this.opts.caPem, machine: this.machine, clock: this.dateClock, tokenFault: this.opts.imdsTokenFault });
        await this.imdsServer.start();
        url = this.imdsServer.url;
      }
      this.imds = new ImdsClient(url);
    }
    this.compute ??= await this.imds.instance();
    this.control ??= new ControlPlane(this.http, this.compute, this.machine.platform, `AMA/${AMA_VERSION} (${this.machine.platform === 'linux' ? 'Linux' : 'Windows'}; x64)`);
    this.msi = await this.imds.token();
    return this.msi.accessToken;
  }

  /** IMDS token, then the agent configuration. A failed refresh keeps the previous configuration. */
  configure(): Promise<void> {
    this.configuring ??= (async () => {
      if (this.closed) throw new AgentError('the agent is closed', 'network', { phase: 'config' });
      if (!this.config) this.setState('configuring');
      let phase: AgentPhase = 'imds';
      try {
        const token = await this.msiToken();
        phase = 'config';
        const cfg = await this.control!.fetchConfiguration(token);
        const first = !this.config;
        this.config = cfg;
        this.ingestionTokens.clear();
        this.configBackoff.reset();
        this.log('info', `configuration from ${this.control!.lastHops.join(' -> ')}: ${cfg.dcrIds.length} rule(s), ${cfg.dataSources.length} data source(s), channels ${[...cfg.channels.keys()].join(', ') || 'none'}`);
        if (first) this.emit('configured', this.status());
        this.setState('running');
      } catch (err) {
        throw this.fail(phase, err);
      }
    })().finally(() => (this.configuring = undefined));
    return this.configuring;
  }

  /** Creates one collection's records (nothing before a configuration: the agent does not know what to collect). */
  collect(): number {
    if (!this.config) return 0;
    const made = collectRecords(this.config, this.machine, this.opts.volume, this.clock.now(), this.random);
    for (const { stream, item } of made) {
      const rec = this.ledger.create(stream, item);
      if (rec.state === 'dropped') this.log('warning', `buffer full: record ${rec.id} dropped (queue-full)`);
    }
    this.emit('status', this.status());
    return made.length;
  }

  private async ingestionToken(ch: Channel): Promise<string> {
    const cached = this.ingestionTokens.get(ch.id);
    if (cached && cached.expiresOn - TOKEN_MARGIN_MS > this.dateClock.now()) return cached.token;
    let phase: AgentPhase = 'imds';
    try {
      const msi = await this.msiToken();
      phase = 'ingestion-token';
      const t = await this.control!.ingestionToken(ch, msi);
      this.ingestionTokens.set(ch.id, t);
      return t.token;
    } catch (err) {
      throw err instanceof AgentError && !err.phase ? err.withPhase(phase) : err;
    }
  }

  /** Uploads every queued record; on failure the batch goes back to the queue and the error is thrown. */
  async flush(): Promise<void> {
    if (!this.config) return;
    const size = this.opts.batchSize ?? 500;
    while (this.ledger.waitingCount > 0 && !this.closed) {
      const batch = this.ledger.takeBatch(size);
      const stream = batch[0]!.dataType;
      const ch = channelForStream(this.config, stream);
      if (!ch) {
        this.ledger.drop(batch, 'no-channel');
        this.log('warning', `${batch.length} ${stream} record(s) dropped: the configuration no longer sends ${stream} anywhere`);
        continue;
      }
      try {
        const token = await this.ingestionToken(ch);
        await uploadBatch({ http: this.http, compute: this.compute!, resourceId: machineResourceId(this.machine), userAgent: `AMA/${AMA_VERSION}` }, ch, stream, batch.map((r) => ({ ...r.item, [RECORD_ID_FIELD]: r.id })), token);
      } catch (err) {
        this.ledger.requeue(batch);
        if (err instanceof AgentError && err.statusCode === 401) this.ingestionTokens.delete(ch.id);
        throw this.fail('upload', err);
      }
      this.ledger.acknowledge(batch);
      this.uploadBackoff.reset();
      this.emit('delivered', { dataType: stream, count: batch.length, recordIds: batch.map((r) => r.id), delivered: this.ledger.summary().acknowledged });
      this.emit('status', this.status());
    }
  }

  /** Configure if needed, collect once, deliver everything queued. Rejects with the failing phase's AgentError. */
  async runOnce(): Promise<void> {
    if (!this.config) await this.configure();
    this.collect();
    await this.flush();
  }

  /** Schedules on the clock: configuration (retried with backoff, refreshed), collection, uploads. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const s = this.opts.schedule ?? {};
    const every = (ms: number, fn: () => void) => {
      const h = this.clock.setInterval(fn, ms);
      this.timers.add(h);
    };
    every(s.collectIntervalMs ?? 60_000, () => {
      this.collect();
      this.pump();
    });
    // Assumed refresh interval: the agent polls the handler for configuration changes every 5 minutes.
    every(s.configRefreshMs ?? 5 * 60_000, () => {
      if (this.config && !this.configTimer) this.configure().catch(() => undefined);
    });
    this.configureWithRetry();
  }

  private configureWithRetry(): void {
    this.configure().then(
      () => this.pump(),
      (err: AgentError) => {
        if (this.closed) return;
        const delay = this.configBackoff.next(err.retryAfterMs);
        this.nextRetryAt = this.clock.now() + delay;
        this.setState(this.config ? 'running' : 'retrying');
        this.configTimer = this.clock.setTimeout(() => {
          this.configTimer = undefined;
          this.nextRetryAt = undefined;
          this.configureWithRetry();
        }, delay);
      },
    );
  }

  private pump(): void {
    if (this.pumping || this.uploadTimer || this.closed || !this.config) return;
    this.pumping = this.flush()
      .catch((err: AgentError) => {
        if (this.closed) return;
        const delay = this.uploadBackoff.next(err.retryAfterMs);
        this.nextRetryAt = this.clock.now() + delay;
        this.setState('retrying');
        this.uploadTimer = this.clock.setTimeout(() => {
          this.uploadTimer = undefined;
          this.nextRetryAt = undefined;
          this.setState('running');
          this.pump();
        }, delay);
      })
      .finally(() => (this.pumping = undefined));
  }

  /** Stops timers and sockets; queued records stay queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) this.clock.clearInterval(t);
    if (this.configTimer) this.clock.clearTimeout(this.configTimer);
    if (this.uploadTimer) this.clock.clearTimeout(this.uploadTimer);
    await this.http.close();
    await Promise.allSettled([this.pumping, this.configuring]);
    await this.imds?.close();
    await this.imdsServer?.close();
    this.setState('stopped');
  }

  status(): AmaStatus {
    return amaStatus({ agent: this, state: this.state, configured: !!this.config, errors: this.errors, lastFailure: this.lastFailure, nextRetryAt: this.nextRetryAt, summary: this.ledger.summary() });
  }

  summary(): LedgerSummary {
    return this.ledger.summary();
  }

  /** Resolves when the condition holds (checked on every status change); rejects after timeoutMs real ms. */
  waitFor(cond: AmaCondition, opts: { timeoutMs?: number } = {}): Promise<AmaStatus> {
    if (conditionMet(cond, this.status())) return Promise.resolve(this.status());
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = this.status();
        if (!conditionMet(cond, s)) return;
        cleanup();
        resolve(s);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${opts.timeoutMs} ms waiting for ${typeof cond === 'function' ? 'a condition' : JSON.stringify(cond)}; status ${JSON.stringify(this.status())}`));
      }, opts.timeoutMs ?? 10_000);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('status', check);
      };
      this.on('status', check);
    });
  }
}
