import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesFilter, type EventFilter, type EventLog, type GatewayEvent } from '../events/event-log.js';

/** Events held for one slow reader before the oldest are dropped (each is a reference, not a copy). */
export const DEFAULT_STREAM_QUEUE = 1000;

export interface StreamStats {
  /** Events waiting because the socket is not draining. */
  queued: number;
  /** Events dropped (oldest first) since the stream opened. */
  dropped: number;
  /** Bytes node holds in the response's write buffer. */
  writableLength: number;
}

/**
 * Server-sent events to one reader that may be slower than the gateway. While the socket accepts
 * data, each event is written at once; when `write()` says the buffer is full, events wait in a
 * ring of at most `maxQueued`, dropping the oldest. When the socket drains, the reader first gets a
 * `gap` event (how many were dropped and their seq range) so the page can show the hole, then the
 * newest events. Memory per reader is bounded by node's high-water mark plus the ring.
 */
export class BoundedEventStream {
  private readonly ring: (GatewayEvent | undefined)[];
  private head = 0;
  private size = 0;
  private blocked = false;
  private droppedTotal = 0;
  private gap?: { dropped: number; firstSeq: number; lastSeq: number };

  constructor(private readonly res: ServerResponse, maxQueued = DEFAULT_STREAM_QUEUE) {
    if (!Number.isInteger(maxQueued) || maxQueued < 1) throw new Error(`stream queue must be a positive integer, got ${maxQueued}`);
    this.ring = new Array(maxQueued);
  }

  push(event: GatewayEvent): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.blocked) return this.write(event);
    if (this.size === this.ring.length) {
      const oldest = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.size--;
      this.droppedTotal++;
      if (this.gap) {
        this.gap.dropped++;
        this.gap.lastSeq = oldest.seq;
      } else this.gap = { dropped: 1, firstSeq: oldest.seq, lastSeq: oldest.seq };
    }
    this.ring[(this.head + this.size) % this.ring.length] = event;
    this.size++;
  }

  stats(): StreamStats {
    return { queued: this.size, dropped: this.droppedTotal, writableLength: this.res.writableLength };
  }

  private write(event: GatewayEvent): void {
    this.send(`id: ${event.seq}\nevent: gateway-event\ndata: ${JSON.stringify(event)}\n\n`);
  }

  private send(frame: string): void {
    if (!this.res.write(frame)) {
      this.blocked = true;
      this.res.once('drain', () => this.flush());
    }
  }

  private flush(): void {
    this.blocked = false;
    if (this.gap) {
      const gap = this.gap;
      this.gap = undefined;
      this.send(`event: gap\ndata: ${JSON.stringify({ ...gap, reason: 'the reader fell behind; the oldest waiting events were dropped' })}\n\n`);
    }
    while (this.size > 0 && !this.blocked && !this.res.destroyed) {
      const event = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.size--;
      this.write(event);
    }
  }
}

/** One id per event log (so per gateway process): a page that sees a new one knows seqs restarted. */
const instances = new WeakMap<EventLog, string>();
function instanceOf(events: EventLog): string {
  let id = instances.get(events);
  if (!id) instances.set(events, (id = randomUUID()));
  return id;
}

/**
 * GET /api/events/stream: first a `hello` event naming the gateway process (`instance`), then the
 * ring after `since` (or the browser's Last-Event-ID on reconnect), then the log live through a
 * BoundedEventStream.
 */
export function streamEvents(req: IncomingMessage, res: ServerResponse, events: EventLog, filter: EventFilter, open: Set<ServerResponse>, maxQueued = DEFAULT_STREAM_QUEUE): BoundedEventStream {
  const lastId = req.headers['last-event-id'];
  if (filter.since === undefined && typeof lastId === 'string' && /^[0-9]+$/.test(lastId)) filter = { ...filter, since: Number(lastId) };
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
  res.write(': omsgw gateway events\n\n');
  // Which gateway process this is: after a restart seq numbers start again at 1.
  res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ instance: instanceOf(events), lastSeq: events.lastSeq })}\n\n`);
  const stream = new BoundedEventStream(res, maxQueued);
  const send = (e: GatewayEvent): void => {
    if (matchesFilter(e, { ids: filter.ids })) stream.push(e);
  };
  if (filter.since !== undefined) for (const e of events.list(filter)) send(e);
  events.on('event', send);
  open.add(res);
  const stop = (): void => {
    events.removeListener('event', send);
    open.delete(res);
  };
  req.once('close', stop);
  res.once('close', stop);
  return stream;
}
