import { EventEmitter } from 'node:events';
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { InputError } from '../../lib/errors.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { EVENT_LEVELS, type EventId, type EventLevel } from './event-ids.js';

export interface GatewayEvent {
  seq: number;
  id: EventId;
  level: EventLevel;
  time: string;
  message: string;
  clientIp?: string;
  clientPort?: number;
  target?: string;
  connectionId?: number;
  fields?: Record<string, unknown>;
}

export type EventDetails = Omit<GatewayEvent, 'seq' | 'id' | 'level' | 'time' | 'message'>;

export interface EventFilter {
  /** Only events with seq strictly greater than this. */
  since?: number;
  ids?: readonly number[];
  /** Most recent N of the matches. */
  limit?: number;
}

export interface EventLogOptions {
  /** Events kept in memory; older ones fall off the ring (they stay in the file). */
  capacity?: number;
  clock?: Clock;
  /** Append every event to this file as one JSON line. */
  file?: string;
}

/**
 * The gateway's "OMS Gateway Log": a bounded in-memory ring with increasing seq numbers,
 * mirrored to a JSON-lines file when asked. Emits 'event' for each new entry.
 */
export class EventLog extends EventEmitter<{ event: [GatewayEvent] }> {
  readonly capacity: number;
  private readonly ring: GatewayEvent[] = [];
  private start = 0;
  private nextSeq = 1;
  private readonly clock: Clock;
  private stream?: WriteStream;
  readonly file?: string;

  constructor(options: EventLogOptions = {}) {
    super();
    this.capacity = options.capacity ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new InputError(`event ring capacity must be a positive integer, got ${this.capacity}`);
    this.clock = options.clock ?? systemClock;
    this.file = options.file;
    this.setMaxListeners(0);
  }

  /** Opens the JSON-lines file (append). Fails with InputError when it cannot be written. */
  open(): void {
    if (!this.file || this.stream) return;
    let fd: number;
    try {
      fd = openSync(this.file, 'a');
    } catch (err) {
      throw new InputError(`event log file ${this.file} cannot be opened for appending: ${(err as Error).message}`);
    }
    this.stream = createWriteStream('', { fd, autoClose: true });
    this.stream.on('error', () => {
      // A failing disk must not take the proxy down; the in-memory ring still has everything.
      this.stream = undefined;
    });
  }

  log(id: EventId, message: string, details: EventDetails = {}): GatewayEvent {
    const event: GatewayEvent = { seq: this.nextSeq++, id, level: EVENT_LEVELS[id], time: new Date(this.clock.now()).toISOString(), message, ...details };
    if (this.ring.length < this.capacity) this.ring.push(event);
    else {
      this.ring[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
    }
    this.stream?.write(JSON.stringify(event) + '\n');
    this.emit('event', event);
    return event;
  }

  /** Highest seq handed out so far (0 before the first event). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  list(filter: EventFilter = {}): GatewayEvent[] {
    const ordered = this.start === 0 ? this.ring.slice() : [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)];
    const ids = filter.ids && filter.ids.length > 0 ? new Set(filter.ids) : undefined;
    const since = filter.since ?? 0;
    const matches = ordered.filter((e) => e.seq > since && (!ids || ids.has(e.id)));
    return filter.limit !== undefined && matches.length > filter.limit ? matches.slice(matches.length - filter.limit) : matches;
  }

  /** Waits until everything written so far reached the file, then closes it. */
  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return;
    await new Promise<void>((resolve) => stream.end(resolve));
  }
}

export function matchesFilter(event: GatewayEvent, filter: EventFilter): boolean {
  if (filter.since !== undefined && event.seq <= filter.since) return false;
  if (filter.ids && filter.ids.length > 0 && !filter.ids.includes(event.id)) return false;
  return true;
}

/** One human-readable line: `2016-03-01T09:00:00.000Z  info     103  Got request from ...`. */
export function formatEvent(event: GatewayEvent): string {
  const extras: string[] = [];
  if (event.connectionId !== undefined) extras.push(`conn=${event.connectionId}`);
  if (event.fields) {
    for (const [k, v] of Object.entries(event.fields)) {
      if (k === 'headers') continue;
      extras.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    }
  }
  const tail = extras.length ? `  [${extras.join(' ')}]` : '';
  // 103 carries the request headers on extra lines (as the real log did): indent them under the first.
  const [first, ...more] = event.message.split('\n');
  const rest = more.map((l) => `\n      ${l}`).join('');
  return `${event.time}  ${event.level.padEnd(7)}  ${event.id}  ${first}${tail}${rest}`;
}
