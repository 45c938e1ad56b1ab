import { EventEmitter } from 'node:events';
import { InputError } from '../../lib/errors.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { EVENT_LEVELS, type EventId, type EventLevel } from './event-ids.js';
import { EventFile } from './event-file.js';
import { flatString } from '../../lib/flat-string.js';
import { ResourceEpisodes } from '../resources/episodes.js';

export type { EventDetails, GatewayEvent } from './event-types.js';
import type { EventDetails, GatewayEvent } from './event-types.js';

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
  /** Rotate the file before it grows past this many bytes (0 = never). Default 16 MiB. */
  fileMaxBytes?: number;
  /** Rotated files kept (`<file>.1` ... `<file>.<n>`). Default 3. */
  fileKeep?: number;
}

export const DEFAULT_EVENT_FILE_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_EVENT_FILE_KEEP = 3;

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
  private writer?: EventFile;
  readonly file?: string;
  private readonly fileMaxBytes: number;
  private readonly fileKeep: number;
  /** Resources that ran out (the event-log file, file descriptors): logged once per episode. */
  readonly resources: ResourceEpisodes;

  constructor(options: EventLogOptions = {}) {
    super();
    this.fileMaxBytes = options.fileMaxBytes ?? DEFAULT_EVENT_FILE_MAX_BYTES;
    this.fileKeep = options.fileKeep ?? DEFAULT_EVENT_FILE_KEEP;
    this.capacity = options.capacity ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new InputError(`event ring capacity must be a positive integer, got ${this.capacity}`);
    this.clock = options.clock ?? systemClock;
    this.file = options.file;
    this.setMaxListeners(0);
    this.resources = new ResourceEpisodes((id, message, details) => this.log(id, message, details), () => this.clock.now());
  }

  /** Opens the JSON-lines file (append). Fails with InputError when it cannot be opened. */
  open(): void {
    if (!this.file || this.writer) return;
    const file = this.file;
    try {
      this.writer = new EventFile({
        path: file,
        maxBytes: this.fileMaxBytes,
        keep: this.fileKeep,
        // A failing disk must not take the proxy down: the ring still has every event, and the
        // episode is logged once (it reaches the ring, the API and the counters, if not the file).
        onWriteFailed: (err) =>
          this.resources.exhausted('event-log-file', err.code ?? 'EIO', `Event log file ${file} cannot be written (${err.code ?? err.message}): events are kept only in memory (the last ${this.capacity}) until it can`, {
            fields: { file },
          }),
        onWriteRecovered: (lost) =>
          this.resources.recovered('event-log-file', (e) => `Event log file ${file} is writable again after ${e.seconds} s (${e.code}); ${lost} event(s) could not be written to it and are missing from the file`),
      });
    } catch (err) {
      throw new InputError(`event log file ${file} cannot be opened for appending: ${(err as Error).message}`);
    }
  }

  log(id: EventId, message: string, details: EventDetails = {}): GatewayEvent {
    // The ring keeps up to `capacity` events: a flat message costs its length, not its pieces.
    const event: GatewayEvent = { seq: this.nextSeq++, id, level: EVENT_LEVELS[id], time: new Date(this.clock.now()).toISOString(), message: flatString(message), ...details };
    if (this.ring.length < this.capacity) this.ring.push(event);
    else {
      this.ring[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
    }
    this.emit('event', event);
    // After the emit, so that an event about the file itself (logged from inside write) comes after this one.
    this.writer?.write(JSON.stringify(event) + '\n');
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

  /** Closes the file (writes are synchronous, so everything logged is already in it). */
  async close(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    writer?.close();
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
