import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { Backoff } from './backoff.js';
import { createClientCertificate, generateRsaKeyPair, type ClientCertificate } from './certificate.js';
import { AgentError, type AgentPhase } from './errors.js';
import { agentHttpClient, type AgentHttpClient } from './http-client.js';
import { createIdentity, SeededStream, seededRandom, type AgentIdentity, type AgentOs } from './identity.js';
import { Ledger, type LedgerSummary } from './ledger.js';
import { checkAgentSettings, resolveSettings, type AgentLogEntry, type AgentLogLevel, type AgentOptions, type ResolvedSettings } from './options.js';
import { endpointsFor, type AgentProtocol, type Endpoints, type NewRecord } from './protocol.js';
import { parseProxyString, type ProxySetting } from './proxy-string.js';
import { postDataItems, registerAgentService, topologyRequest, type CallContext } from './requests.js';
import { decodeSharedKey, validateWorkspaceId } from './signing.js';
import { waitForCondition, type AgentCondition, type AgentEvents, type AgentFailure, type AgentState, type AgentStatus } from './status.js';
import { AgentTimers } from './timers.js';
import { UploadPump } from './upload-pump.js';

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
  private readonly uploads: UploadPump;
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
  private retryTimer?: TimerHandle;
  private nextRetryAt?: number;
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
    this.uploads = new UploadPump({
      clock: this.clock,
      timers: this.timers,
      ledger: this.ledger,
      backoff: new Backoff({ ...this.settings.uploadRetry, random }),
      batchSize: this.settings.batchSize,
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
      dropped: (reason, count) => this.emit('dropped', { reason, count }),
    });
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
      nextRetryAt: this.nextRetryAt ?? this.uploads.nextRetryAt(),
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
    if (this.retryTimer) {
      // A direct onboard() call succeeded while a scheduled retry was waiting.
      this.timers.clear(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.nextRetryAt = undefined;
    this.setState('running');
    this.uploads.schedule(0);
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
    await this.uploads.flush();
  }

  /** Starts the schedules: onboarding (with retries), collection, heartbeats, uploads. */
  start(): void {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    const schedule = this.settings.schedule;
    this.timers.every(schedule.collectIntervalMs, () => this.collectNow(false));
    const heartbeatRow = this.protocol.heartbeatRow;
    if (schedule.heartbeatRowsMs > 0 && heartbeatRow) {
      this.timers.every(schedule.heartbeatRowsMs, () => this.createRecords([heartbeatRow(this.collectContext())]));
    }
    this.timers.every(schedule.topologyHeartbeatMs, () => {
      if (this.onboarded) void this.timers.track(this.heartbeat());
    });
    this.tryOnboard();
  }

  /** Stops schedules and connections. Queued records stay queued (and counted): nothing is dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearAll();
    this.retryTimer = undefined;
    this.nextRetryAt = undefined;
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
        this.scheduleRetry(this.onboardBackoff.next(err.retryAfterMs), () => this.tryOnboard());
      },
    );
  }

  private scheduleRetry(delay: number, fn: () => void): void {
    if (this.retryTimer) this.timers.clear(this.retryTimer);
    this.nextRetryAt = this.clock.now() + delay;
    this.setState('retrying');
    this.retryTimer = this.timers.after(delay, () => {
      this.retryTimer = undefined;
      this.nextRetryAt = undefined;
      fn();
    });
  }

  private async heartbeat(): Promise<void> {
    try {
      await topologyRequest(this.calls, 'heartbeat');
      this.emit('heartbeat', { ok: true });
    } catch {
      this.emit('heartbeat', { ok: false });
    }
  }

  // ---- data ------------------------------------------------------------------------------------

  private collectContext() {
    return { identity: this.identity, faker: this.data.next(), now: this.clock.now(), volume: this.settings.volume };
  }

  /** One collection tick (plus a heartbeat row when asked, for runOnce); then try to upload. */
  private collectNow(withHeartbeatRow: boolean): void {
    const recs = this.protocol.collect(this.collectContext());
    if (withHeartbeatRow && this.protocol.heartbeatRow) recs.push(this.protocol.heartbeatRow(this.collectContext()));
    this.createRecords(recs);
  }

  private createRecords(recs: NewRecord[]): void {
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
    this.uploads.schedule(0);
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

  private assertOpen(): void {
    if (this.closed) throw new Error(`agent ${this.identity.hostname} is closed`);
  }
}
