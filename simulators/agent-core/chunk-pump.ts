import type { TimerHandle } from '../../lib/clock.js';
import { retryWaitMs, type ChunkModel } from './behavior.js';
import { AgentError } from './errors.js';
import { itemBytes, type LedgerRecord } from './ledger.js';
import type { PumpHost, Uploader } from './upload-pump.js';

interface Chunk {
  seq: number;
  records: LedgerRecord[];
  bytes: number;
  /** Failed attempts of this chunk (per-chunk counting). */
  retries: number;
}

/**
 * A chunked buffer and its flush/retry loop on the agent's clock, after fluentd 0.12's
 * BufferedOutput (omsagent's out_oms) or the MMA's documented cache (see behavior.ts for the two
 * counting rules). One chunk is posted at a time, one PostJsonDataItems per data type in it (as
 * out_oms groups records); any failure fails the whole chunk, which is retried whole.
 */
export class ChunkPump implements Uploader {
  /** The chunks being filled, by key ('' when chunks are not keyed). */
  private readonly staged = new Map<string, Chunk>();
  private readonly queue: Chunk[] = [];
  private seq = 0;
  private nextFlushTime: number;
  /** fluentd's @num_errors (output-wide) and @next_retry_time. */
  private numErrors = 0;
  private nextRetryTime = 0;
  private timer?: TimerHandle;
  private timerAt?: number;
  private flushing?: Promise<AgentError | undefined>;

  constructor(
    private readonly host: PumpHost,
    private readonly model: ChunkModel,
    private readonly random: () => number,
  ) {
    this.nextFlushTime = host.clock.now() + model.flushIntervalMs;
  }

  /** Queued chunks and the staged one (for tests and reports). */
  chunks(): { queued: { seq: number; records: number; bytes: number }[]; staged: { records: number; bytes: number } } {
    const staged = [...this.staged.values()];
    return { queued: this.queue.map((c) => ({ seq: c.seq, records: c.records.length, bytes: c.bytes })), staged: { records: staged.reduce((n, c) => n + c.records.length, 0), bytes: this.stagedBytes() } };
  }

  accept(records: LedgerRecord[]): void {
    for (const r of records) {
      if (r.state !== 'queued') continue;
      const size = itemBytes(r);
      const key = this.model.chunkKey === 'dataType' ? r.dataType : '';
      let chunk = this.staged.get(key);
      if (chunk && chunk.records.length > 0 && chunk.bytes + size > this.model.chunkLimitBytes) {
        this.enqueue(chunk);
        chunk = undefined;
      }
      if (!chunk) this.staged.set(key, (chunk = this.newChunk()));
      chunk.records.push(r);
      chunk.bytes += size;
    }
    this.enforceByteLimit();
    this.schedule(0);
  }

  nextRetryAt(): number | undefined {
    return this.numErrors > 0 && this.nextRetryTime > this.host.clock.now() ? this.nextRetryTime : undefined;
  }

  /** Re-arms the flush timer for the next thing due (a flush tick or a retry); `delay` 0: check now. */
  schedule(delay: number): void {
    const h = this.host;
    if (!h.mayUpload() || this.flushing) return;
    const now = h.clock.now();
    let due: number;
    if (this.queue.length === 0) due = this.nextFlushTime;
    else if (this.numErrors > 0) due = this.nextRetryTime;
    else due = now;
    due = Math.max(due, now + delay);
    if (due <= now) {
      void this.tryFlush(false);
      return;
    }
    if (this.timer && this.timerAt === due) return;
    if (this.timer) h.timers.clear(this.timer);
    this.timerAt = due;
    this.timer = h.timers.after(due - now, () => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.schedule(0);
    });
  }

  /** fluentd force_flush: queue the staged chunk and post everything now, ignoring the retry wait; rejects with the first failure. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing;
      this.enqueueStaged();
      if (this.queue.length === 0) return;
      if (this.host.closed()) throw new AgentError(`Agent closed while flushing: ${this.host.ledger.waitingCount} records stay queued`, 'protocol', { phase: 'upload' });
      const err = await this.tryFlush(true);
      if (err) throw err;
    }
  }

  stop(): void {
    this.timer = undefined;
    this.timerAt = undefined;
  }

  private newChunk(): Chunk {
    return { seq: ++this.seq, records: [], bytes: 0, retries: 0 };
  }

  private stagedBytes(): number {
    let n = 0;
    for (const c of this.staged.values()) n += c.bytes;
    return n;
  }

  /** Moves every non-empty staged chunk to the queue (fluentd enqueue_buffer). */
  private enqueueStaged(): void {
    for (const c of [...this.staged.values()]) if (c.records.length) this.enqueue(c);
  }

  /** Moves a staged chunk to the queue; a full queue first loses its oldest chunk (drop_oldest_chunk). */
  private enqueue(chunk: Chunk): void {
    const limit = this.model.queueLimitChunks;
    if (limit !== undefined && this.queue.length >= limit) {
      // A chunk being posted cannot be taken (fluentd pop(nil) fails on a locked chunk): the next oldest goes.
      const victim = this.queue.findIndex((c) => !c.records.some((r) => r.state === 'sent'));
      if (victim >= 0) this.dropChunks(this.queue.splice(victim, 1), 'queue-full');
    }
    for (const [k, c] of this.staged) if (c === chunk) this.staged.delete(k);
    this.queue.push(chunk);
  }

  private enforceByteLimit(): void {
    const limit = this.model.queueLimitBytes;
    if (limit === undefined) return;
    const total = () => this.queue.reduce((n, c) => n + c.bytes, 0) + this.stagedBytes();
    while (total() > limit) {
      const victim = this.queue.findIndex((c) => !c.records.some((r) => r.state === 'sent'));
      if (victim < 0) break;
      this.dropChunks(this.queue.splice(victim, 1), 'queue-full');
    }
  }

  private dropChunks(chunks: Chunk[], reason: string): void {
    const records = chunks.flatMap((c) => c.records).filter((r) => r.state === 'queued' || r.state === 'sent');
    if (records.length === 0) return;
    this.host.ledger.drop(records, reason);
    this.host.dropped(reason, records.length, records);
  }

  /** One pass of fluentd's try_flush. Resolves with the failure, if the attempt failed. */
  private tryFlush(force: boolean): Promise<AgentError | undefined> {
    if (this.flushing) return this.flushing;
    const run = this.attempt(force);
    this.flushing = this.host.timers.track(run);
    void this.flushing.finally(() => {
      this.flushing = undefined;
      if (!this.host.closed()) this.schedule(this.queue.length && this.numErrors === 0 ? this.model.queuedChunkFlushIntervalMs : 0);
    });
    return this.flushing;
  }

  private async attempt(force: boolean): Promise<AgentError | undefined> {
    const h = this.host;
    const m = this.model;
    const time = h.clock.now();
    if (force) this.nextRetryTime = Math.min(this.nextRetryTime, time);
    const queueEmpty = this.queue.length === 0;
    // fluentd queues the staged chunk on the flush tick only when nothing is queued; the MMA model on every tick.
    if ((queueEmpty || m.retryCounting === 'per-chunk') && time >= this.nextFlushTime) {
      this.enqueueStaged();
      this.nextFlushTime = time + m.flushIntervalMs;
    }
    const chunk = this.queue[0];
    if (!chunk || h.closed()) return undefined;
    if (this.numErrors > 0 && this.nextRetryTime > time) return undefined;
    const retrying = this.numErrors > 0;
    if (retrying && m.retryCounting === 'fluentd') {
      // Assume this retry fails too: count it and plan the next one from the planned time, not from now.
      this.numErrors++;
      this.nextRetryTime += retryWaitMs(m, this.numErrors, this.random);
    }
    try {
      const batches = await this.post(chunk);
      this.queue.shift();
      h.ledger.acknowledge(chunk.records);
      this.numErrors = 0;
      for (const b of batches) h.delivered(b);
      return undefined;
    } catch (e) {
      const err = e instanceof AgentError ? e : new AgentError(String(e), 'network', { phase: 'upload' });
      h.ledger.requeue(chunk.records);
      // A call cut short by close() is not a failed attempt: closing keeps every record queued.
      if (h.closed()) return err;
      if (m.retryCounting === 'fluentd') this.failedFluentd(retrying, time);
      else this.failedPerChunk(chunk, time);
      h.failed(err);
      return err;
    }
  }

  private failedFluentd(retrying: boolean, time: number): void {
    const m = this.model;
    let errorCount = this.numErrors;
    if (!retrying) {
      errorCount = 0;
      this.numErrors = 1;
      this.nextRetryTime = time + retryWaitMs(m, 1, this.random);
    }
    if (errorCount >= m.retryLimit) {
      // "retry count exceededs limit." then write_abort: "throwing away old logs." (buffer.clear!: every queued chunk).
      this.dropChunks(this.queue.splice(0), 'retry-limit');
      this.numErrors = 0;
      // try_flush returns @next_retry_time: the writer sleeps until then even though the count was reset.
      this.nextFlushTime = Math.max(this.nextFlushTime, this.nextRetryTime);
    }
  }

  private failedPerChunk(chunk: Chunk, time: number): void {
    const m = this.model;
    chunk.retries++;
    if (chunk.retries > m.retryLimit) {
      // Discard this chunk and advance to the next one, with a fresh backoff.
      this.dropChunks(this.queue.splice(this.queue.indexOf(chunk), 1), 'retry-limit');
      this.numErrors = 0;
      return;
    }
    this.numErrors = chunk.retries;
    this.nextRetryTime = time + retryWaitMs(m, chunk.retries, this.random);
  }

  /** out_oms write(chunk): one post per data type in the chunk; the first failure fails the chunk. */
  private async post(chunk: Chunk): Promise<LedgerRecord[][]> {
    const byType = new Map<string, LedgerRecord[]>();
    for (const r of chunk.records) {
      if (r.state !== 'queued') continue;
      const list = byType.get(r.dataType) ?? [];
      list.push(r);
      byType.set(r.dataType, list);
    }
    for (const batch of byType.values()) {
      this.host.ledger.markSent(batch);
      await this.host.upload(batch);
    }
    return [...byType.values()];
  }
}
