/** Where a record is between its creation by the agent and its acknowledgement by the service. */
export type RecordState = 'queued' | 'sent' | 'acknowledged' | 'dropped';

export interface LedgerRecord {
  /** Unique across a fleet: `<agentGuid>:<sequence>`. Carried in the data item so the cloud can count it. */
  id: string;
  dataType: string;
  createdAt: number;
  state: RecordState;
  /** Number of times the record was transmitted. */
  attempts: number;
  acknowledgedAt?: number;
  dropReason?: string;
  /** The data item; released once the record is acknowledged or dropped. */
  item?: Record<string, unknown>;
  /** The item's JSON text, made once (itemJson) for the buffer's byte count and the upload body; released with the item. */
  itemJson?: string;
  /** Its length in UTF-8 bytes (itemBytes), counted once. */
  itemBytes?: number;
}

/** The record's data item as JSON, serialized once however often it is measured or sent. */
export function itemJson(r: LedgerRecord): string {
  return (r.itemJson ??= JSON.stringify(r.item ?? {}));
}

/** The UTF-8 length of the record's JSON: the chunked buffers count it when the record is created, the upload body when it is built. */
export function itemBytes(r: LedgerRecord): number {
  return (r.itemBytes ??= Buffer.byteLength(itemJson(r)));
}

export interface LedgerSummary {
  created: number;
  /** Transmissions, counting retries (a record sent twice counts twice). */
  sent: number;
  acknowledged: number;
  /** Not yet acknowledged nor dropped, including those in flight. */
  queued: number;
  inFlight: number;
  dropped: Record<string, number>;
}

export function droppedTotal(s: Pick<LedgerSummary, 'dropped'>): number {
  return Object.values(s.dropped).reduce((a, b) => a + b, 0);
}

/** Throws when records were lost from the books: created must equal acknowledged + queued + dropped. */
export function assertLedgerInvariant(s: LedgerSummary, who = 'ledger'): void {
  const accounted = s.acknowledged + s.queued + droppedTotal(s);
  if (accounted !== s.created) {
    throw new Error(`${who}: created ${s.created} != acknowledged ${s.acknowledged} + queued ${s.queued} + dropped ${droppedTotal(s)} (= ${accounted})`);
  }
}

export function sumSummaries(list: LedgerSummary[]): LedgerSummary {
  const out: LedgerSummary = { created: 0, sent: 0, acknowledged: 0, queued: 0, inFlight: 0, dropped: {} };
  for (const s of list) {
    out.created += s.created;
    out.sent += s.sent;
    out.acknowledged += s.acknowledged;
    out.queued += s.queued;
    out.inFlight += s.inFlight;
    for (const [k, v] of Object.entries(s.dropped)) out.dropped[k] = (out.dropped[k] ?? 0) + v;
  }
  return out;
}

/**
 * Every record an agent created and what became of it, plus the bounded local buffer (the real
 * agents' buffer: when it is full, new records are refused and counted as dropped `queue-full`).
 */
export class Ledger {
  /** Every record, in creation order: record n (1-based, its id's sequence number) is all[n - 1]. */
  private readonly all: LedgerRecord[] = [];
  /** Queued (not in flight), oldest first. */
  private pending: LedgerRecord[] = [];
  private seq = 0;
  private counts = { created: 0, sent: 0, acknowledged: 0, queued: 0, inFlight: 0 };
  private readonly dropped: Record<string, number> = {};

  constructor(private readonly opts: { agentGuid: string; queueLimit: number; now: () => number }) {
    if (!Number.isInteger(opts.queueLimit) || opts.queueLimit < 1) throw new Error(`queueLimit must be a positive integer, got ${opts.queueLimit}`);
  }

  /** Creates a record (itemJson: the item's JSON text when the caller has it); when the buffer already holds queueLimit records it is dropped at once (`queue-full`). */
  create(dataType: string, item: Record<string, unknown>, itemJson?: string): LedgerRecord {
    const rec: LedgerRecord = { id: `${this.opts.agentGuid}:${++this.seq}`, dataType, createdAt: this.opts.now(), state: 'queued', attempts: 0, item, itemJson };
    this.all.push(rec);
    this.counts.created++;
    if (this.counts.queued >= this.opts.queueLimit) {
      this.setDropped(rec, 'queue-full');
      return rec;
    }
    this.counts.queued++;
    this.pending.push(rec);
    return rec;
  }

  /** Takes up to `max` of the oldest queued records of one data type (the type of the oldest) and marks them sent. */
  takeBatch(max: number): LedgerRecord[] {
    if (this.pending.length === 0) return [];
    const type = this.pending[0]!.dataType;
    const batch: LedgerRecord[] = [];
    const rest: LedgerRecord[] = [];
    for (const r of this.pending) {
      if (batch.length < max && r.dataType === type) batch.push(r);
      else rest.push(r);
    }
    this.pending = rest;
    for (const r of batch) {
      r.state = 'sent';
      r.attempts++;
    }
    this.counts.sent += batch.length;
    this.counts.inFlight += batch.length;
    return batch;
  }

  /** Marks these queued records as transmitted (a chunked buffer picks its own records, not the oldest batch). */
  markSent(records: LedgerRecord[]): void {
    const sent = new Set<LedgerRecord>();
    for (const r of records) {
      if (r.state !== 'queued') continue;
      sent.add(r);
      r.state = 'sent';
      r.attempts++;
      this.counts.sent++;
      this.counts.inFlight++;
    }
    if (sent.size) this.pending = this.pending.filter((r) => !sent.has(r));
  }

  acknowledge(batch: LedgerRecord[]): void {
    const now = this.opts.now();
    for (const r of batch) {
      if (r.state !== 'sent') continue;
      r.state = 'acknowledged';
      r.acknowledgedAt = now;
      r.item = undefined;
      r.itemJson = undefined;
      this.counts.inFlight--;
      this.counts.queued--;
      this.counts.acknowledged++;
    }
  }

  /** Puts an unacknowledged batch back at the head of the queue, in its original order. */
  requeue(batch: LedgerRecord[]): void {
    const back = batch.filter((r) => r.state === 'sent');
    for (const r of back) {
      r.state = 'queued';
      this.counts.inFlight--;
    }
    this.pending = [...back, ...this.pending].sort((a, b) => seqOf(a) - seqOf(b));
  }

  /** Drops queued or in-flight records with a reason (e.g. `retry-limit`, `agent-closed` is never used: closing keeps them queued). */
  drop(batch: LedgerRecord[], reason: string): void {
    const waiting = new Set<LedgerRecord>();
    for (const r of batch) {
      if (r.state === 'acknowledged' || r.state === 'dropped') continue;
      if (r.state === 'sent') this.counts.inFlight--;
      else waiting.add(r);
      this.counts.queued--;
      this.setDropped(r, reason);
    }
    if (waiting.size) this.pending = this.pending.filter((r) => !waiting.has(r));
  }

  get(id: string): LedgerRecord | undefined {
    const prefix = `${this.opts.agentGuid}:`;
    if (!id.startsWith(prefix)) return undefined;
    const r = this.all[Number(id.slice(prefix.length)) - 1];
    return r?.id === id ? r : undefined;
  }

  records(): IterableIterator<LedgerRecord> {
    return this.all.values();
  }

  /** Ids of acknowledged records (what the cloud should have ingested). */
  acknowledgedIds(): string[] {
    return this.all.filter((r) => r.state === 'acknowledged').map((r) => r.id);
  }

  get queuedCount(): number {
    return this.counts.queued;
  }

  /** Queued and not in flight. */
  get waitingCount(): number {
    return this.pending.length;
  }

  summary(): LedgerSummary {
    return { ...this.counts, dropped: { ...this.dropped } };
  }

  private setDropped(rec: LedgerRecord, reason: string): void {
    rec.state = 'dropped';
    rec.dropReason = reason;
    rec.item = undefined;
    rec.itemJson = undefined;
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }
}

function seqOf(r: LedgerRecord): number {
  return Number(r.id.slice(r.id.lastIndexOf(':') + 1));
}
