import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Backoff } from './backoff.js';
import { AgentError } from './errors.js';
import type { Ledger, LedgerRecord } from './ledger.js';
import type { AgentTimers } from './timers.js';

/** What the pump needs from its agent. */
export interface PumpHost {
  clock: Clock;
  timers: AgentTimers;
  ledger: Ledger;
  backoff: Backoff;
  batchSize: number;
  /** Wait at least as long as a Retry-After asks (the `ideal` model). */
  honourRetryAfter: boolean;
  /** Transmissions after which a record is dropped as `retry-limit`; undefined: never. */
  retryLimit?: number;
  /** Sends one batch (one data type); throws an AgentError on failure. */
  upload(batch: LedgerRecord[]): Promise<void>;
  /** Started, not closed, and allowed to upload (onboarded, and registered where needed). */
  mayUpload(): boolean;
  started(): boolean;
  closed(): boolean;
  delivered(batch: LedgerRecord[]): void;
  /** A post failed; the pump has already requeued or dropped the batch and scheduled the retry. */
  failed(err: AgentError): void;
  dropped(reason: string, count: number, records: LedgerRecord[]): void;
}

/** What moves an agent's queued records to the service: a record queue (`ideal`) or a chunked buffer (`omsagent`, `mma`). */
export interface Uploader {
  /** New records were created (queued in the ledger). */
  accept(records: LedgerRecord[]): void;
  /** Asks for an upload after `delay` ms (never before a pending retry is due). */
  schedule(delay: number): void;
  /** Uploads everything queued now, ignoring any wait; rejects with the first failure. */
  flush(): Promise<void>;
  /** Epoch ms of the next planned retry, if one is pending. */
  nextRetryAt(): number | undefined;
  /** Forgets timers (the agent's close() has cleared them on the clock). */
  stop(): void;
}

/**
 * Moves queued records to the service one batch at a time: on a failure the batch goes back to
 * the head of the queue and no upload starts before the backoff (or a longer Retry-After) ends.
 */
export class UploadPump implements Uploader {
  private pumping?: Promise<void>;
  private retryTimer?: TimerHandle;
  private retryAt?: number;
  private blockedUntil = 0;

  constructor(private readonly host: PumpHost) {}

  accept(): void {
    this.schedule(0);
  }

  /** Epoch ms before which no scheduled upload starts, if that is in the future. */
  nextRetryAt(): number | undefined {
    return this.blockedUntil > this.host.clock.now() ? this.blockedUntil : undefined;
  }

  /** Asks for a pump after `delay` ms, never before the end of a backoff or Retry-After window. */
  schedule(delay: number): void {
    const h = this.host;
    if (!h.mayUpload()) return;
    const now = h.clock.now();
    const wait = Math.max(delay, this.blockedUntil - now);
    if (wait <= 0) {
      if (!this.pumping) void this.pump();
      return;
    }
    // A timer due earlier stays: when it fires it schedules again for what is left of the window.
    if (this.retryTimer && this.retryAt! <= now + wait) return;
    if (this.retryTimer) h.timers.clear(this.retryTimer);
    this.retryAt = now + wait;
    this.retryTimer = h.timers.after(wait, () => {
      this.retryTimer = undefined;
      this.retryAt = undefined;
      this.schedule(0);
    });
  }

  /** Uploads everything queued now, ignoring any backoff; rejects with the first upload error. */
  async flush(): Promise<void> {
    this.blockedUntil = 0;
    for (;;) {
      if (this.pumping) await this.pumping.catch(() => undefined);
      if (this.host.ledger.waitingCount === 0) return;
      // pump() does nothing once closed: without this check the loop would spin on microtasks forever.
      if (this.host.closed()) {
        throw new AgentError(`Agent closed while flushing: ${this.host.ledger.waitingCount} records stay queued`, 'protocol', { phase: 'upload' });
      }
      const err = await this.pump();
      if (err) throw err;
    }
  }

  /** Forgets timers (the agent's close() has cleared them on the clock). */
  stop(): void {
    this.retryTimer = undefined;
    this.retryAt = undefined;
    this.blockedUntil = 0;
  }

  /** Uploads batches until the queue is empty or a post fails; resolves with the failure, if any. */
  private pump(): Promise<AgentError | undefined> {
    if (this.pumping) return this.pumping.then(() => undefined);
    const h = this.host;
    const run = (async (): Promise<AgentError | undefined> => {
      while (!h.closed() && h.ledger.waitingCount > 0) {
        const batch = h.ledger.takeBatch(h.batchSize);
        try {
          await h.upload(batch);
          h.ledger.acknowledge(batch);
          h.backoff.reset();
          h.delivered(batch);
        } catch (e) {
          const err = e instanceof AgentError ? e : new AgentError(String(e), 'network', { phase: 'upload' });
          // A call cut short by close() was not a failed attempt: closing keeps every record queued.
          const exhausted = h.retryLimit !== undefined && !h.closed() ? batch.filter((r) => r.attempts >= h.retryLimit!) : [];
          if (exhausted.length) {
            h.ledger.drop(exhausted, 'retry-limit');
            h.dropped('retry-limit', exhausted.length, exhausted);
          }
          h.ledger.requeue(batch);
          const delay = h.backoff.next(h.honourRetryAfter ? err.retryAfterMs : undefined);
          this.blockedUntil = h.clock.now() + delay;
          if (h.started() && !h.closed()) this.schedule(delay);
          h.failed(err);
          return err;
        }
      }
      return undefined;
    })();
    const tracked = h.timers.track(run);
    this.pumping = tracked.then(() => undefined);
    void tracked.finally(() => {
      this.pumping = undefined;
      // Records created while the last batch was settling found the pump busy; they go now.
      if (h.ledger.waitingCount > 0) this.schedule(0);
    });
    return tracked;
  }
}
