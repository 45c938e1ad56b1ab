import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { Backoff } from './backoff.js';
import { agentCertificate, type ClientCertificate } from './certificate.js';
import { AgentError, type AgentPhase } from './errors.js';
import { agentHttpClient, type AgentHttpClient } from './http-client.js';
import { createIdentity, SeededStream, seededRandom, type AgentIdentity, type AgentOs } from './identity.js';
import { Ledger, type LedgerRecord, type LedgerSummary } from './ledger.js';
import { checkAgentSettings, resolveSettings, type AgentLogEntry, type AgentLogLevel, type AgentOptions, type ResolvedSettings } from './options.js';
import { endpointsFor, type AgentProtocol, type Endpoints, type NewRecord } from './protocol.js';
import { parseProxyString, type ProxySetting } from './proxy-string.js';
import { postDataItems, registerAgentService, topologyRequest, type CallContext } from './requests.js';
import { decodeSharedKey, validateWorkspaceId } from './signing.js';
import { failureOf, waitForCondition, type AgentCondition, type AgentEvents, type AgentFailure, type AgentState, type AgentStatus } from './status.js';
import { AgentTimers, RetryTimer } from './timers.js';
import { ChunkPump } from './chunk-pump.js';
import { HeartbeatRows, TopologyHeartbeat } from './heartbeats.js';
import { UploadPump, type PumpHost, type Uploader } from './upload-pump.js';

export * from './options.js';
export * from './status.js';
export { RECORD_ID_FIELD } from './requests.js';

/**
 * One simulated monitoring agent: identity, certificate, proxy, schedules, queue and ledger are
 * shared code; the OS protocol (onboarding body, data types, agent-service call) is plugged in.
 * Options are checked in options.ts, calls built in requests.ts, uploads moved by upload-pump.ts.
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
  private readonly settings: ResolvedSettings;
  private readonly onboardBackoff: Backoff;
  private readonly timers: AgentTimers;
  private readonly uploads: Uploader;
  private readonly heartbeats: TopologyHeartbeat;
  private readonly heartbeatRows?: HeartbeatRows;
  private readonly calls: CallContext;

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
  /** The scheduled retry of onboarding or the agent-service call. */
  private readonly onboardRetry: RetryTimer;
  private onboarding?: Promise<void>;

  constructor(private readonly protocol: AgentProtocol, options: AgentOptions) {
    super();
    checkAgentSettings(options);
    if (options.os !== protocol.os) throw new InputError(`agent os "${options.os}" does not match its protocol "${protocol.os}"`);
    this.opts = options;
    this.os = options.os;
    validateWorkspaceId(options.workspaceId);
    decodeSharedKey(options.workspaceKey);
    this.proxy = parseProxyString(options.proxy);
    this.settings = resolveSettings(options, protocol);
    this.bindAddress = options.bindAddress;
    this.clock = options.clock ?? systemClock;
    this.timers = new AgentTimers(this.clock);
    this.onboardRetry = new RetryTimer(this.timers, this.clock);
    this.identity = createIdentity(this.os, options.seed, options.index ?? 0);
    // Independent streams for data and jitter, so identities do not depend on schedules.
    this.data = new SeededStream(options.seed, options.index ?? 0, 1);
    this.endpoints = endpointsFor(options.workspaceId, options.tld);
    this.ledger = new Ledger({ agentGuid: this.identity.agentGuid, queueLimit: this.settings.queueLimit, now: () => this.clock.now() });
    const random = seededRandom(options.seed, options.index ?? 0);
    this.onboardBackoff = new Backoff({ ...this.settings.onboardRetry, random });
    this.calls = {
      identity: this.identity,
      protocol,
      endpoints: this.endpoints,
      workspaceId: options.workspaceId,
      workspaceKey: options.workspaceKey,
      certificate: () => this.certificate(),
      dateNow: () => (this.opts.dateClock ?? this.clock).now(),
      call: (phase, method, url, headers, body) => this.call(phase, method, url, headers, body),
      fail: (phase, err) => this.fail(phase, err),
    };
    const host: PumpHost = {
      clock: this.clock,
      timers: this.timers,
      ledger: this.ledger,
      backoff: new Backoff({ ...this.settings.uploadRetry, random }),
      batchSize: this.settings.batchSize,
      honourRetryAfter: this.settings.model.honourRetryAfter,
      retryLimit: this.settings.uploadRetry.retryLimit,
      upload: (batch) => postDataItems(this.calls, batch),
      mayUpload: () => !this.closed && this.started && this.uploadsEnabled,
      started: () => this.started,
      closed: () => this.closed,
      delivered: (batch) => {
        this.lastCallFailed = false;
        if (this.state === 'retrying' || this.state === 'failed') this.setState('running');
        this.emit('delivered', { dataType: batch[0]!.dataType, count: batch.length, recordIds: batch.map((r) => r.id), delivered: this.ledger.summary().acknowledged });
        this.emit('status', this.status());
      },
      failed: () => {
        this.setState(this.started ? 'retrying' : 'failed');
        this.emit('status', this.status());
      },
      dropped: (reason, count, records) => this.droppedRecords(reason, count, records),
    };
    const chunks = this.settings.model.chunks;
    this.uploads = chunks ? new ChunkPump(host, chunks, random) : new UploadPump(host);
    this.heartbeats = new TopologyHeartbeat({
      timers: this.timers,
      intervalMs: this.settings.schedule.topologyHeartbeatMs,
      bounds: this.settings.model.queryIntervalBoundsMs,
      onboarded: () => this.onboarded,
      closed: () => this.closed,
      beat: () => this.heartbeat(),
    });
    const heartbeatRow = protocol.heartbeatRow;
    if (heartbeatRow) {
      this.heartbeatRows = new HeartbeatRows({ timers: this.timers, clock: this.clock, intervalMs: this.settings.schedule.heartbeatRowsMs, create: () => this.createRecords([heartbeatRow(this.collectContext())]) });
    }
  }

  /** The behaviour model this agent runs (with any overrides of its retry and buffer parameters). */
  get behavior() {
    return this.settings.model;
  }

  get agentId(): string {
    return this.identity.agentGuid;
  }

  /** The agent's certificate (generated on first use). */
  async certificate(): Promise<ClientCertificate> {
    if (this.cert) return this.cert;
    this.certPromise ??= agentCertificate({
      keyPool: this.opts.keyPool,
      index: this.opts.index ?? 0,
      workspaceId: this.opts.workspaceId,
      agentGuid: this.identity.agentGuid,
      os: this.os,
      notBefore: new Date(this.clock.now() - 60_000),
      serialNumber: this.data.next().string.hexadecimal({ length: 16, casing: 'lower', prefix: '' }).replace(/^0/, '1'),
    }).then((cert) => (this.cert = cert));
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
      nextRetryAt: this.onboardRetry.nextAt ?? this.uploads.nextRetryAt(),
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
    this.onboarding ??= this.timers
      .track(this.doOnboard())
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
      this.dscEndpoint = (await topologyRequest(this.calls, 'onboard')).dscEndpoint;
      this.onboarded = true;
      this.lastCallFailed = false;
      this.onboardBackoff.reset();
      this.log('info', 'Onboarding success', 'onboard');
      this.emit('onboarded', this.status());
    }
    if (this.protocol.agentServiceCall && !this.registered) {
      this.setState('registering');
      await registerAgentService(this.calls, this.dscEndpoint!);
      this.registered = true;
      this.lastCallFailed = false;
      this.onboardBackoff.reset();
      this.log('info', `Registered with the agent service ${new URL(this.dscEndpoint!).hostname}`, 'agent-service');
      this.emit('registered', this.status());
    }
    // A direct onboard() call may have succeeded while a scheduled retry was waiting.
    this.onboardRetry.cancel();
    this.setState('running');
    this.uploads.schedule(0);
  }

  /** Onboards if needed, collects one tick of data (and a heartbeat row on Linux), delivers everything queued. */
  async runOnce(): Promise<{ delivered: number }> {
    this.assertOpen();
    await this.onboard();
    this.collectNow();
    this.heartbeatRows?.createIfDue();
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
    await this.uploads.flush();
  }

  /** Starts the schedules: onboarding (with retries), collection, heartbeats, uploads. */
  start(): void {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    const schedule = this.settings.schedule;
    this.timers.every(schedule.collectIntervalMs, () => this.collectNow());
    this.heartbeatRows?.start();
    this.heartbeats.start();
    this.tryOnboard();
  }

  /** Stops schedules and connections. Queued records stay queued (and counted): nothing is dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearAll();
    this.onboardRetry.cancel();
    this.uploads.stop();
    await this.http?.close();
    await this.timers.settled();
    this.setState('stopped');
  }

  /** No onboarding, heartbeat or upload in flight: after `clock.advance()`, the idle signal for "nothing was posted". */
  settled(): Promise<void> {
    return this.timers.settled();
  }

  /** Resolves when the condition holds; rejects after timeoutMs of real time (default 30 s). */
  waitFor(cond: AgentCondition, opts: { timeoutMs?: number } = {}): Promise<AgentStatus> {
    return waitForCondition(this, () => ({ status: this.status(), failure: this.lastFailure }), this.identity.hostname, cond, opts);
  }

  // ---- onboarding retries and heartbeats -------------------------------------------------------

  private tryOnboard(): void {
    if (this.closed || this.uploadsEnabled) return;
    this.onboard().then(
      () => undefined,
      (err: AgentError) => {
        if (this.closed) return;
        this.onboardRetry.set(this.onboardBackoff.next(err.retryAfterMs), () => this.tryOnboard());
        this.setState('retrying');
      },
    );
  }

  private async heartbeat(): Promise<{ queryIntervalMs?: number }> {
    try {
      const res = await topologyRequest(this.calls, 'heartbeat');
      this.emit('heartbeat', { ok: true });
      return res;
    } catch {
      this.emit('heartbeat', { ok: false });
      return {};
    }
  }

  // ---- data ------------------------------------------------------------------------------------

  private collectContext() {
    return { identity: this.identity, faker: this.data.next(), now: this.clock.now(), volume: this.settings.volume };
  }

  /** One collection tick; then try to upload. */
  private collectNow(): void {
    this.createRecords(this.protocol.collect(this.collectContext()));
  }

  private createRecords(recs: NewRecord[]): void {
    const created = recs.map((r) => this.ledger.create(r.dataType, r.item, r.json));
    const refused = created.filter((r) => r.state === 'dropped');
    if (refused.length) this.droppedRecords('queue-full', refused.length, refused);
    this.emit('status', this.status());
    this.uploads.accept(created);
  }

  /** Records the buffer or the retry policy gave up on: logged with the reason and the oldest and newest ids. */
  private droppedRecords(reason: string, count: number, records: LedgerRecord[]): void {
    const span = records.length ? ` (${records[0]!.id} .. ${records[records.length - 1]!.id})` : '';
    this.log('warning', `Dropped ${count} record(s), ${reason}${span}; ${this.ledger.queuedCount} still queued`, 'upload');
    this.emit('dropped', { reason, count });
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private async client(): Promise<AgentHttpClient> {
    if (this.http) return this.http;
    const cert = await this.certificate();
    this.http ??= agentHttpClient(this.opts, this.proxy, cert, this.protocol.connectHeaders(this.identity), {
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
    this.lastFailure = failureOf(phase, e, this.clock.now());
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

  private assertOpen(): void {
    if (this.closed) throw new Error(`agent ${this.identity.hostname} is closed`);
  }
}
