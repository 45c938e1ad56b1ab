import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { deflateSync } from 'node:zlib';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { Backoff } from './backoff.js';
import { createClientCertificate, generateRsaKeyPair, type ClientCertificate, type KeyPool } from './certificate.js';
import { AgentError, type AgentPhase } from './errors.js';
import { AgentHttpClient } from './http-client.js';
import { createIdentity, SeededStream, seededRandom, type AgentIdentity, type AgentOs, type Seed } from './identity.js';
import { Ledger, type LedgerRecord, type LedgerSummary } from './ledger.js';
import { endpointsFor, type AgentProtocol, type DataVolume, type Endpoints } from './protocol.js';
import { parseProxyString, type ProxySetting } from './proxy-string.js';
import { signedTopologyHeaders, formatAgentDate, validateWorkspaceId, decodeSharedKey } from './signing.js';
import { parseReason, parseTopologyResponse } from './topology.js';

/** The data item field the fake cloud reads record ids from (fake-oms-endpoints/protocol/ods.ts). */
export const RECORD_ID_FIELD = 'omsgwRecordId';

export interface AgentTlsOptions {
  minVersion?: SecureVersion;
  /** TLSv1.2 by default, like the agents of 2016. */
  maxVersion?: SecureVersion;
  /** SNI to send instead of the real host name. */
  servername?: string;
}

export interface RetryOptions {
  /** First retry delay of onboarding and the agent-service call (clock ms). Default 15 s. */
  onboardInitialMs?: number;
  onboardMaxMs?: number;
  /** First retry delay of a failed upload: fluentd's retry_wait, 30 s. */
  uploadInitialMs?: number;
  /** fluentd's max_retry_wait, 9 min. */
  uploadMaxMs?: number;
  /** Jitter fraction, default 0.2. */
  jitter?: number;
  /**
   * Transmissions after which a record is dropped (`retry-limit`). The real omsagent.conf uses 10;
   * the simulator keeps records until delivered unless this is set.
   */
  retryLimit?: number;
}

export interface AgentSchedule {
  /** How often data is collected into the queue. Default 60 s. */
  collectIntervalMs: number;
  /** Override the OS's topology heartbeat interval (Linux 20 min, Windows 1 min). */
  topologyHeartbeatMs?: number;
  /** Override the OS's heartbeat-row interval (Linux 1 min). */
  heartbeatRowsMs?: number;
}

export type AgentLogLevel = 'info' | 'warning' | 'error';
export interface AgentLogEntry {
  time: string;
  level: AgentLogLevel;
  agentId: string;
  hostname: string;
  os: AgentOs;
  message: string;
  phase?: AgentPhase;
}

export interface AgentOptions {
  os: AgentOs;
  workspaceId: string;
  workspaceKey: string;
  /** `[http://][user:pass@]host[:port]`, parsed like the Linux agent's proxy.conf. */
  proxy: string;
  /** The lab CA: the only certificate authority the agent trusts. */
  caPem: string;
  seed: Seed;
  /** Identity index under the seed (fleets give each agent its own). */
  index?: number;
  /** Local address for connections to the proxy, e.g. 127.0.1.7. */
  bindAddress?: string;
  clock?: Clock;
  /**
   * Clock for request dates (x-ms-Date), which the service checks within 15 minutes of its own
   * time. Default: `clock`. Accelerated runs (ScaledClock) pass the system clock here.
   */
  dateClock?: Clock;
  tls?: AgentTlsOptions;
  /** Records the local buffer holds before new ones are dropped (`queue-full`). Default 10000. */
  queueLimit?: number;
  logger?: (entry: AgentLogEntry) => void;
  /** Share RSA keys with other agents (fleets); otherwise the agent generates its own. */
  keyPool?: KeyPool;
  schedule?: Partial<AgentSchedule>;
  retry?: RetryOptions;
  volume?: Partial<DataVolume>;
  /** Records per upload (one DataType per post). Default 500. */
  batchSize?: number;
  /** Keep tunnels open between calls (the real agents do not). */
  keepAlive?: boolean;
  /** Real ms for TCP + CONNECT + TLS. Default 30 s (the agent's open_timeout). */
  connectTimeoutMs?: number;
  /** Real ms for a response. Default 60 s. */
  requestTimeoutMs?: number;
  /** Cloud top-level domain. Default opinsights.azure.com. */
  tld?: string;
}

/** `failed`: the last attempt failed and nothing is scheduled (not started); `retrying`: a retry is scheduled. */
export type AgentState = 'new' | 'onboarding' | 'registering' | 'running' | 'retrying' | 'failed' | 'stopped';

export interface AgentFailure {
  phase: AgentPhase;
  kind: AgentError['kind'];
  message: string;
  target?: string;
  proxyStatus?: number;
  statusCode?: number;
  time: string;
}

export interface AgentStatus {
  agentId: string;
  hostname: string;
  os: AgentOs;
  bindAddress?: string;
  state: AgentState;
  onboarded: boolean;
  /** Linux only: the automation agent-service registration succeeded (uploads wait for it). */
  agentServiceRegistered?: boolean;
  created: number;
  queued: number;
  delivered: number;
  dropped: number;
  /** Failed calls so far, all phases. */
  errors: number;
  /** The most recent onboarding, agent-service or upload call failed (heartbeats do not count). */
  lastCallFailed: boolean;
  lastError?: string;
  lastFailure?: AgentFailure;
  /** Epoch ms (agent clock) of the next scheduled retry, if any. */
  nextRetryAt?: number;
}

export interface DeliveredEvent {
  dataType: string;
  count: number;
  recordIds: string[];
  /** Acknowledged records so far. */
  delivered: number;
}

export interface FailedEvent {
  phase: AgentPhase;
  error: AgentError;
}

/** What `waitFor` can wait for; a function sees every status change. */
export type AgentCondition =
  | { onboarded: true }
  | { registered: true }
  | { delivered: number }
  | { created: number }
  | { failed: AgentPhase | true }
  | ((s: AgentStatus) => boolean);

interface AgentEvents {
  onboarded: [AgentStatus];
  registered: [AgentStatus];
  delivered: [DeliveredEvent];
  failed: [FailedEvent];
  dropped: [{ reason: string; count: number }];
  heartbeat: [{ ok: boolean }];
  tunnel: [{ target: string; localAddress?: string; localPort?: number }];
  log: [AgentLogEntry];
  status: [AgentStatus];
}

const DEFAULT_VOLUME: DataVolume = { perfSamples: 5, logRows: 2, messageBytes: 120 };

/**
 * One simulated monitoring agent: identity, certificate, proxy, schedules, queue and ledger are
 * shared code; the OS protocol (onboarding body, data types, agent-service call) is plugged in.
 */
export class SimulatedAgent extends EventEmitter<AgentEvents> {
  readonly os: AgentOs;
  readonly identity: AgentIdentity;
  readonly ledger: Ledger;
  readonly proxy: ProxySetting;
  readonly endpoints: Endpoints;
  readonly bindAddress?: string;

  private readonly clock: Clock;
  /** Seeded Fakers for data and serial numbers, separate from the identity's. */
  private readonly data: SeededStream;
  private readonly opts: AgentOptions;
  private readonly volume: DataVolume;
  private readonly schedule: AgentSchedule & { topologyHeartbeatMs: number; heartbeatRowsMs: number };
  private readonly onboardBackoff: Backoff;
  private readonly uploadBackoff: Backoff;
  private readonly batchSize: number;

  private cert?: ClientCertificate;
  private certPromise?: Promise<ClientCertificate>;
  private http?: AgentHttpClient;
  private state: AgentState = 'new';
  private onboarded = false;
  private registered = false;
  private dscEndpoint?: string;
  private errors = 0;
  private lastFailure?: AgentFailure;
  private lastCallFailed = false;
  private started = false;
  private closed = false;
  private timers = new Set<TimerHandle>();
  private intervals = new Set<TimerHandle>();
  private retryTimer?: TimerHandle;
  private nextRetryAt?: number;
  private uploadRetryTimer?: TimerHandle;
  private uploadRetryAt?: number;
  private onboarding?: Promise<void>;
  private pumping?: Promise<void>;
  private uploadBlockedUntil = 0;
  private inflight = new Set<Promise<unknown>>();

  constructor(private readonly protocol: AgentProtocol, options: AgentOptions) {
    super();
    this.opts = options;
    if (options.os !== protocol.os) throw new InputError(`agent os "${options.os}" does not match its protocol "${protocol.os}"`);
    this.os = options.os;
    validateWorkspaceId(options.workspaceId);
    decodeSharedKey(options.workspaceKey);
    if (typeof options.caPem !== 'string' || !options.caPem.includes('BEGIN CERTIFICATE')) {
      throw new InputError('caPem must be the lab CA certificate in PEM form (-----BEGIN CERTIFICATE-----)');
    }
    if (options.bindAddress !== undefined && !(isIPv4(options.bindAddress) && options.bindAddress.startsWith('127.'))) {
      throw new InputError(`bindAddress ${options.bindAddress} is not a loopback address (127.x.y.z)`);
    }
    validateTlsOptions(options.tls);
    this.proxy = parseProxyString(options.proxy);
    this.bindAddress = options.bindAddress;
    this.clock = options.clock ?? systemClock;
    this.identity = createIdentity(this.os, options.seed, options.index ?? 0);
    // Independent streams for data and jitter, so identities do not depend on schedules.
    this.data = new SeededStream(options.seed, options.index ?? 0, 1);
    this.endpoints = endpointsFor(options.workspaceId, options.tld);
    if (options.queueLimit !== undefined && !(Number.isInteger(options.queueLimit) && options.queueLimit >= 1)) throw new InputError(`queueLimit must be a whole number >= 1, got ${options.queueLimit}`);
    for (const k of ['connectTimeoutMs', 'requestTimeoutMs'] as const) {
      // undici reads 0 as "no timeout": a hung call would then never end.
      const v = options[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new InputError(`${k} must be a number of milliseconds > 0, got ${v}`);
    }
    this.ledger = new Ledger({ agentGuid: this.identity.agentGuid, queueLimit: options.queueLimit ?? 10_000, now: () => this.clock.now() });
    this.volume = { ...DEFAULT_VOLUME, ...options.volume };
    for (const [k, v] of Object.entries(this.volume)) {
      if (!(Number.isInteger(v) && v >= 0)) throw new InputError(`volume.${k} must be a whole number >= 0, got ${v}`);
    }
    this.schedule = {
      collectIntervalMs: options.schedule?.collectIntervalMs ?? 60_000,
      topologyHeartbeatMs: options.schedule?.topologyHeartbeatMs ?? protocol.topologyHeartbeatMs,
      heartbeatRowsMs: options.schedule?.heartbeatRowsMs ?? protocol.heartbeatRowsMs,
    };
    for (const [k, v] of Object.entries(this.schedule)) {
      if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new InputError(`schedule.${k} must be a number of milliseconds >= 0, got ${v}`);
    }
    const r = options.retry ?? {};
    const random = seededRandom(options.seed, options.index ?? 0);
    const onboardInitialMs = r.onboardInitialMs ?? 15_000;
    const uploadInitialMs = r.uploadInitialMs ?? 30_000;
    // An explicit first delay above a default cap raises the cap rather than failing.
    const onboardMaxMs = r.onboardMaxMs ?? Math.max(300_000, onboardInitialMs);
    const uploadMaxMs = r.uploadMaxMs ?? Math.max(540_000, uploadInitialMs);
    for (const [name, v] of Object.entries({ onboardInitialMs, onboardMaxMs, uploadInitialMs, uploadMaxMs })) {
      if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new InputError(`retry.${name} must be a number of milliseconds > 0, got ${v}`);
    }
    if (onboardMaxMs < onboardInitialMs) throw new InputError(`retry.onboardMaxMs (${onboardMaxMs}) must not be below retry.onboardInitialMs (${onboardInitialMs})`);
    if (uploadMaxMs < uploadInitialMs) throw new InputError(`retry.uploadMaxMs (${uploadMaxMs}) must not be below retry.uploadInitialMs (${uploadInitialMs})`);
    if (r.jitter !== undefined && !(r.jitter >= 0 && r.jitter < 1)) throw new InputError(`retry.jitter must be in [0, 1), got ${r.jitter}`);
    if (r.retryLimit !== undefined && !(Number.isInteger(r.retryLimit) && r.retryLimit >= 1)) throw new InputError(`retry.retryLimit must be a whole number >= 1, got ${r.retryLimit}`);
    this.onboardBackoff = new Backoff({ initialMs: onboardInitialMs, maxMs: onboardMaxMs, jitter: r.jitter, random });
    this.uploadBackoff = new Backoff({ initialMs: uploadInitialMs, maxMs: uploadMaxMs, jitter: r.jitter, random });
    this.batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${options.batchSize}`);
  }

  get agentId(): string {
    return this.identity.agentGuid;
  }

  /** The agent's certificate (generated on first use). */
  async certificate(): Promise<ClientCertificate> {
    if (this.cert) return this.cert;
    this.certPromise ??= (async () => {
      const keys = this.opts.keyPool ? await this.opts.keyPool.get(this.opts.index ?? 0) : await generateRsaKeyPair();
      const cert = await createClientCertificate({
        workspaceId: this.opts.workspaceId,
        agentGuid: this.identity.agentGuid,
        os: this.os,
        keys,
        notBefore: new Date(this.clock.now() - 60_000),
        serialNumber: this.data.next().string.hexadecimal({ length: 16, casing: 'lower', prefix: '' }).replace(/^0/, '1'),
      });
      this.cert = cert;
      return cert;
    })();
    return this.certPromise;
  }

  status(): AgentStatus {
    const s = this.ledger.summary();
    const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    return {
      agentId: this.identity.agentGuid,
      hostname: this.identity.hostname,
      os: this.os,
      bindAddress: this.bindAddress,
      state: this.state,
      onboarded: this.onboarded,
      agentServiceRegistered: this.protocol.agentServiceCall ? this.registered : undefined,
      created: s.created,
      queued: s.queued,
      delivered: s.acknowledged,
      dropped,
      errors: this.errors,
      lastCallFailed: this.lastCallFailed,
      lastError: this.lastFailure?.message,
      lastFailure: this.lastFailure,
      nextRetryAt: this.nextRetryAt ?? (this.uploadBlockedUntil > this.clock.now() ? this.uploadBlockedUntil : undefined),
    };
  }

  summary(): LedgerSummary {
    return this.ledger.summary();
  }

  /** True once data may be uploaded: onboarded, and (Linux) registered with the agent service. */
  get uploadsEnabled(): boolean {
    return this.onboarded && (this.registered || !this.protocol.agentServiceCall);
  }

  /**
   * Topology request (shared-key signed), then, for the Linux agent, the automation agent-service
   * call. Rejects with the AgentError of the step that failed; a later call resumes from there.
   */
  onboard(): Promise<void> {
    this.assertOpen();
    this.onboarding ??= this.track(this.doOnboard())
      .catch((err: unknown) => {
        // When started, tryOnboard schedules the retry and moves to 'retrying'.
        if (!this.started) this.setState('failed');
        throw err;
      })
      .finally(() => {
        this.onboarding = undefined;
      });
    return this.onboarding;
  }

  private async doOnboard(): Promise<void> {
    if (!this.onboarded) {
      this.setState('onboarding');
      await this.topologyRequest('onboard');
      this.onboarded = true;
      this.lastCallFailed = false;
      this.onboardBackoff.reset();
      this.log('info', 'Onboarding success', 'onboard');
      this.emit('onboarded', this.status());
    }
    if (this.protocol.agentServiceCall && !this.registered) {
      this.setState('registering');
      await this.registerAgentService();
      this.registered = true;
      this.lastCallFailed = false;
      this.onboardBackoff.reset();
      this.log('info', `Registered with the agent service ${new URL(this.dscEndpoint!).hostname}`, 'agent-service');
      this.emit('registered', this.status());
    }
    if (this.retryTimer) {
      // A direct onboard() call succeeded while a scheduled retry was waiting.
      this.clearTimer(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.nextRetryAt = undefined;
    this.setState('running');
    this.schedulePump(0);
  }

  /** Onboards if needed, collects one tick of data (and a heartbeat row on Linux), delivers everything queued. */
  async runOnce(): Promise<{ delivered: number }> {
    this.assertOpen();
    await this.onboard();
    this.collectNow(true);
    const before = this.ledger.summary().acknowledged;
    await this.flush();
    return { delivered: this.ledger.summary().acknowledged - before };
  }

  /** Uploads everything queued now, ignoring any backoff; rejects with the first upload error. */
  async flush(): Promise<void> {
    this.assertOpen();
    if (!this.uploadsEnabled) {
      throw new AgentError(`Cannot upload yet: ${this.onboarded ? 'the agent-service registration has not succeeded' : 'the agent is not onboarded'}`, 'protocol', { phase: 'upload' });
    }
    this.uploadBlockedUntil = 0;
    for (;;) {
      if (this.pumping) await this.pumping.catch(() => undefined);
      if (this.ledger.waitingCount === 0) return;
      // pump() does nothing once closed: without this check the loop would spin on microtasks forever.
      if (this.closed) {
        throw new AgentError(`Agent closed while flushing: ${this.ledger.waitingCount} records stay queued`, 'protocol', { phase: 'upload' });
      }
      const err = await this.pump();
      if (err) throw err;
    }
  }

  /** Starts the schedules: onboarding (with retries), collection, heartbeats, uploads. */
  start(): void {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    this.every(this.schedule.collectIntervalMs, () => this.collectNow(false));
    if (this.schedule.heartbeatRowsMs > 0 && this.protocol.heartbeatRow) {
      this.every(this.schedule.heartbeatRowsMs, () => this.createRecords([this.protocol.heartbeatRow!(this.collectContext())]));
    }
    if (this.schedule.topologyHeartbeatMs > 0) {
      this.every(this.schedule.topologyHeartbeatMs, () => {
        if (this.onboarded) void this.track(this.heartbeat());
      });
    }
    this.tryOnboard();
  }

  /** Stops schedules and connections. Queued records stay queued (and counted): nothing is dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    for (const t of this.intervals) this.clock.clearInterval(t);
    this.timers.clear();
    this.intervals.clear();
    this.retryTimer = undefined;
    this.uploadRetryTimer = undefined;
    this.uploadRetryAt = undefined;
    this.nextRetryAt = undefined;
    await this.http?.close();
    await Promise.allSettled([...this.inflight]);
    this.setState('stopped');
  }

  /** Resolves when the condition holds; rejects after timeoutMs of real time (default 30 s). */
  waitFor(cond: AgentCondition, opts: { timeoutMs?: number } = {}): Promise<AgentStatus> {
    const test = conditionTest(cond);
    const now = this.status();
    if (test(now, this.lastFailure)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = this.status();
        if (test(s, this.lastFailure)) {
          cleanup();
          resolve(s);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`agent ${this.identity.hostname}: timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${describe(cond)}; status ${JSON.stringify(this.status())}`));
      }, opts.timeoutMs ?? 30_000);
      const events = ['status', 'delivered', 'failed', 'onboarded', 'registered'] as const;
      const cleanup = () => {
        clearTimeout(timer);
        for (const e of events) this.off(e, check);
      };
      for (const e of events) this.on(e, check);
    });
  }

  // ---- onboarding and heartbeats -------------------------------------------------------------

  private tryOnboard(): void {
    if (this.closed || this.uploadsEnabled) return;
    this.onboard().then(
      () => undefined,
      (err: AgentError) => {
        if (this.closed) return;
        const delay = this.onboardBackoff.next(err.retryAfterMs);
        this.scheduleRetry(delay, () => this.tryOnboard());
      },
    );
  }

  private scheduleRetry(delay: number, fn: () => void): void {
    if (this.retryTimer) this.clearTimer(this.retryTimer);
    this.nextRetryAt = this.clock.now() + delay;
    this.setState('retrying');
    this.retryTimer = this.after(delay, () => {
      this.retryTimer = undefined;
      this.nextRetryAt = undefined;
      fn();
    });
  }

  private async topologyRequest(phase: 'onboard' | 'heartbeat'): Promise<void> {
    const cert = await this.certificate();
    const body = this.protocol.topologyBody(this.identity, cert);
    const headers =
      phase === 'onboard'
        ? signedTopologyHeaders({ workspaceId: this.opts.workspaceId, sharedKey: this.opts.workspaceKey, body, epochMs: this.dateNow(), userAgent: this.protocol.userAgent(this.identity) })
        : { 'x-ms-Date': formatAgentDate(this.dateNow()), 'User-Agent': this.protocol.userAgent(this.identity), 'Accept-Language': 'en-US' };
    const url = `https://${this.endpoints.omsHost}${this.protocol.topologyPath}`;
    const res = await this.call(phase, 'POST', url, { ...headers, 'Content-Type': this.protocol.topologyContentType }, body);
    const text = res.body.toString('utf8');
    if (res.statusCode === 403) {
      throw this.fail(phase, new AgentError(`Error ${phase === 'onboard' ? 'onboarding' : 'sending the heartbeat'}. HTTP code 403, Reason: ${parseReason(text) ?? '(none)'}. Check the Workspace ID, Workspace Key and that the time of the system is correct.`, 'http', { target: `${this.endpoints.omsHost}:443`, statusCode: 403, retryAfterMs: res.retryAfterMs }));
    }
    if (res.statusCode !== 200) {
      throw this.fail(phase, new AgentError(`Error ${phase === 'onboard' ? 'onboarding' : 'sending the heartbeat'}. HTTP code ${res.statusCode}`, 'http', { target: `${this.endpoints.omsHost}:443`, statusCode: res.statusCode, retryAfterMs: res.retryAfterMs }));
    }
    const topo = parseTopologyResponse(text);
    if (this.protocol.agentServiceCall) {
      if (!topo.dscEndpoint) throw this.fail(phase, new AgentError('Could not extract the DSC endpoint.', 'protocol', { target: `${this.endpoints.omsHost}:443` }));
      this.dscEndpoint = topo.dscEndpoint;
    }
  }

  private async registerAgentService(): Promise<void> {
    const cert = await this.certificate();
    const call = this.protocol.agentServiceCall!({
      identity: this.identity,
      cert,
      dscEndpoint: this.dscEndpoint!,
      workspaceId: this.opts.workspaceId,
      workspaceKey: this.opts.workspaceKey,
      now: this.dateNow(),
    });
    const res = await this.call('agent-service', call.method, call.url, call.headers, call.body);
    if (res.statusCode < 200 || res.statusCode > 299) {
      const host = new URL(call.url).hostname;
      throw this.fail(
        'agent-service',
        new AgentError(`Agent service registration at ${host} failed. HTTP code ${res.statusCode} ${res.statusText}`.trim(), 'http', { target: `${host}:443`, statusCode: res.statusCode, retryAfterMs: res.retryAfterMs }),
      );
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.topologyRequest('heartbeat');
      this.emit('heartbeat', { ok: true });
    } catch {
      this.emit('heartbeat', { ok: false });
    }
  }

  // ---- data ------------------------------------------------------------------------------------

  private collectContext() {
    return { identity: this.identity, faker: this.data.next(), now: this.clock.now(), volume: this.volume };
  }

  /** One collection tick (plus a heartbeat row when asked, for runOnce); then try to upload. */
  private collectNow(withHeartbeatRow: boolean): void {
    const recs = this.protocol.collect(this.collectContext());
    if (withHeartbeatRow && this.protocol.heartbeatRow) recs.push(this.protocol.heartbeatRow(this.collectContext()));
    this.createRecords(recs);
  }

  private createRecords(recs: { dataType: string; item: Record<string, unknown> }[]): void {
    let dropped = 0;
    for (const r of recs) {
      const rec = this.ledger.create(r.dataType, r.item);
      if (rec.state === 'dropped') dropped++;
    }
    if (dropped) {
      this.log('warning', `Buffer full (${this.ledger.queuedCount} records queued): dropped ${dropped} new record(s)`, 'upload');
      this.emit('dropped', { reason: 'queue-full', count: dropped });
    }
    this.emit('status', this.status());
    this.schedulePump(0);
  }

  private schedulePump(delay: number): void {
    if (this.closed || !this.started || !this.uploadsEnabled) return;
    const now = this.clock.now();
    // Never before the end of a backoff or Retry-After window, whoever asks.
    const wait = Math.max(delay, this.uploadBlockedUntil - now);
    if (wait <= 0) {
      if (!this.pumping) void this.pump();
      return;
    }
    // A timer due earlier stays: when it fires it schedules again for what is left of the window.
    if (this.uploadRetryTimer && this.uploadRetryAt! <= now + wait) return;
    if (this.uploadRetryTimer) this.clearTimer(this.uploadRetryTimer);
    this.uploadRetryAt = now + wait;
    this.uploadRetryTimer = this.after(wait, () => {
      this.uploadRetryTimer = undefined;
      this.uploadRetryAt = undefined;
      this.schedulePump(0);
    });
  }

  /** Uploads batches until the queue is empty or a post fails; resolves with the failure, if any. */
  private pump(): Promise<AgentError | undefined> {
    if (this.pumping) return this.pumping.then(() => undefined);
    const run = (async (): Promise<AgentError | undefined> => {
      while (!this.closed && this.ledger.waitingCount > 0) {
        const batch = this.ledger.takeBatch(this.batchSize);
        try {
          await this.upload(batch);
          this.ledger.acknowledge(batch);
          this.lastCallFailed = false;
          this.uploadBackoff.reset();
          if (this.state === 'retrying' || this.state === 'failed') this.setState('running');
          this.emit('delivered', { dataType: batch[0]!.dataType, count: batch.length, recordIds: batch.map((r) => r.id), delivered: this.ledger.summary().acknowledged });
          this.emit('status', this.status());
        } catch (e) {
          const err = e instanceof AgentError ? e : new AgentError(String(e), 'network', { phase: 'upload' });
          const limit = this.opts.retry?.retryLimit;
          // A call cut short by close() was not a failed attempt: closing keeps every record queued.
          const exhausted = limit !== undefined && !this.closed ? batch.filter((r) => r.attempts >= limit) : [];
          if (exhausted.length) {
            this.ledger.drop(exhausted, 'retry-limit');
            this.emit('dropped', { reason: 'retry-limit', count: exhausted.length });
          }
          this.ledger.requeue(batch);
          const delay = this.uploadBackoff.next(err.retryAfterMs);
          this.uploadBlockedUntil = this.clock.now() + delay;
          if (this.started && !this.closed) this.schedulePump(delay);
          this.setState(this.started ? 'retrying' : 'failed');
          this.emit('status', this.status());
          return err;
        }
      }
      return undefined;
    })();
    const tracked = this.track(run);
    this.pumping = tracked.then(() => undefined);
    void tracked.finally(() => {
      this.pumping = undefined;
      // Records created while the last batch was settling found the pump busy; they go now.
      if (this.ledger.waitingCount > 0) this.schedulePump(0);
    });
    return tracked;
  }

  private async upload(batch: LedgerRecord[]): Promise<void> {
    const dataType = batch[0]!.dataType;
    const json = JSON.stringify({ DataType: dataType, IPName: 'LogManagement', DataItems: batch.map((r) => ({ ...r.item, [RECORD_ID_FIELD]: r.id })) });
    const body = deflateSync(json);
    const requestId = randomUUID();
    const url = `https://${this.endpoints.odsHost}/OperationalData.svc/PostJsonDataItems`;
    const headers = { 'X-Request-ID': requestId, 'Content-Type': 'application/json', 'Content-Encoding': 'deflate', 'User-Agent': this.protocol.userAgent(this.identity) };
    const res = await this.call('upload', 'POST', url, headers, body);
    if (res.statusCode !== 200) {
      const text = res.body.toString('utf8', 0, Math.min(res.body.length, 300)).replace(/\s+/g, ' ');
      throw this.fail(
        'upload',
        new AgentError(`HTTP Error: (request-id=${requestId}; code=${res.statusCode}; message=${res.statusText}; body=${text};)`, 'http', { target: `${this.endpoints.odsHost}:443`, statusCode: res.statusCode, retryAfterMs: res.retryAfterMs }),
      );
    }
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private dateNow(): number {
    return (this.opts.dateClock ?? this.clock).now();
  }

  private async client(): Promise<AgentHttpClient> {
    if (this.http) return this.http;
    const cert = await this.certificate();
    this.http ??= new AgentHttpClient({
      proxy: this.proxy,
      bindAddress: this.bindAddress,
      tls: {
        ca: this.opts.caPem,
        cert: cert.certPem,
        key: cert.keyPem,
        minVersion: this.opts.tls?.minVersion ?? 'TLSv1',
        maxVersion: this.opts.tls?.maxVersion ?? DEFAULT_TLS_MAX,
        servername: this.opts.tls?.servername,
      },
      connectHeaders: this.protocol.connectHeaders(this.identity),
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 30_000,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 60_000,
      keepAlive: this.opts.keepAlive,
      now: () => this.clock.now(),
      onTunnel: (info) => this.emit('tunnel', info),
    });
    return this.http;
  }

  private async call(phase: AgentPhase, method: 'POST' | 'PUT', url: string, headers: Record<string, string>, body: string | Buffer) {
    const http = await this.client();
    try {
      return await http.request(method, url, headers, body);
    } catch (e) {
      const err = e instanceof AgentError ? e : new AgentError(String(e), 'network');
      throw this.fail(phase, err);
    }
  }

  /** Records and reports a failure the way the agent would log it; returns the error to throw. */
  private fail(phase: AgentPhase, err: AgentError): AgentError {
    const e = err.phase ? err : err.withPhase(phase);
    // Calls cut short by close() are not the agent's failures.
    if (this.closed || (e as AgentError & { reported?: boolean }).reported) return e;
    (e as AgentError & { reported?: boolean }).reported = true;
    this.errors++;
    if (phase !== 'heartbeat') this.lastCallFailed = true;
    this.lastFailure = {
      phase,
      kind: e.kind,
      message: e.message,
      target: e.details.target,
      proxyStatus: e.proxyStatus,
      statusCode: e.statusCode,
      time: new Date(this.clock.now()).toISOString(),
    };
    this.log(phase === 'heartbeat' ? 'warning' : 'error', e.message, phase);
    this.emit('failed', { phase, error: e });
    this.emit('status', this.status());
    return e;
  }

  private log(level: AgentLogLevel, message: string, phase?: AgentPhase): void {
    const entry: AgentLogEntry = { time: new Date(this.clock.now()).toISOString(), level, agentId: this.identity.agentGuid, hostname: this.identity.hostname, os: this.os, message, phase };
    this.opts.logger?.(entry);
    this.emit('log', entry);
  }

  private setState(s: AgentState): void {
    if (this.state === s || (this.closed && s !== 'stopped')) return;
    this.state = s;
    this.emit('status', this.status());
  }

  private every(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    this.intervals.add(this.clock.setInterval(fn, ms));
  }

  private after(ms: number, fn: () => void): TimerHandle {
    const h = this.clock.setTimeout(() => {
      this.timers.delete(h);
      fn();
    }, ms);
    this.timers.add(h);
    return h;
  }

  private clearTimer(h: TimerHandle): void {
    this.clock.clearTimeout(h);
    this.timers.delete(h);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
    return p;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`agent ${this.identity.hostname} is closed`);
  }
}

const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** The agents of 2016 offer up to TLS 1.2. */
const DEFAULT_TLS_MAX: SecureVersion = 'TLSv1.2';

/** Caught here: node would only fail at the first handshake, and the agent would retry it forever. */
function validateTlsOptions(tls: AgentTlsOptions | undefined): void {
  if (tls === undefined) return;
  for (const k of ['minVersion', 'maxVersion'] as const) {
    const v = tls[k];
    if (v !== undefined && !TLS_VERSIONS.includes(v)) throw new InputError(`tls.${k} must be one of ${TLS_VERSIONS.join(', ')}, got ${JSON.stringify(v)}`);
  }
  const min = tls.minVersion ?? 'TLSv1';
  const max = tls.maxVersion ?? DEFAULT_TLS_MAX;
  if (TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)) {
    throw new InputError(`tls.minVersion ${min} is above tls.maxVersion ${max}${tls.maxVersion === undefined ? ' (the default, like the 2016 agents)' : ''}: raise maxVersion (--tls-max-version) or lower minVersion`);
  }
  if (tls.servername !== undefined && (typeof tls.servername !== 'string' || !/^[A-Za-z0-9.-]+$/.test(tls.servername))) {
    throw new InputError(`tls.servername must be a host name (letters, digits, dots, dashes), got ${JSON.stringify(tls.servername)}`);
  }
}

function conditionTest(cond: AgentCondition): (s: AgentStatus, f?: AgentFailure) => boolean {
  if (typeof cond === 'function') return (s) => cond(s);
  if ('onboarded' in cond) return (s) => s.onboarded;
  if ('registered' in cond) return (s) => s.agentServiceRegistered === true;
  if ('delivered' in cond) return (s) => s.delivered >= cond.delivered;
  if ('created' in cond) return (s) => s.created >= cond.created;
  return (_s, f) => f !== undefined && (cond.failed === true || f.phase === cond.failed);
}

function describe(cond: AgentCondition): string {
  return typeof cond === 'function' ? 'a custom condition' : JSON.stringify(cond);
}
