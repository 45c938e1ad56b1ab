import type { Socket } from 'node:net';
import type { IdleSweep, Sweepable } from './idle-sweep.js';
import type { InspectionOutcome } from './tls/types.js';

/** What the tunnel needs from a TLS inspector (gateway/tls/inspector.ts implements it). */
export interface Inspector {
  feedClient(chunk: Buffer): InspectionOutcome;
  feedServer(chunk: Buffer): InspectionOutcome;
}

export type Verdict = Exclude<InspectionOutcome, { kind: 'pending' }>;

/**
 * What a tunnel tells whoever opened it, with that opener's `owner` value. One hooks object serves
 * every tunnel of a server, so a tunnel holds no callbacks of its own.
 */
export interface TunnelHooks<O> {
  /** Called once with the inspection verdict; on anything but `verified` the tunnel is already torn down. */
  verdict(owner: O, verdict: Verdict): void;
  /** The idle sweep is closing the tunnel (no traffic either way for the idle timeout). */
  idle(owner: O): void;
  /** Called once when both sockets are gone. */
  closed(owner: O): void;
}

export interface TunnelStart {
  /** Client bytes that arrived with (or right after) the CONNECT head: sent upstream first. */
  pending: Buffer;
  /** Absent: pure forwarding with no inspection. */
  inspector?: Inspector;
  inspectionTimeoutMs: number;
}

const TUNNEL = Symbol('omsgw.tunnel');
type TunnelSocket = Socket & { [TUNNEL]?: Tunnel<unknown> };

/**
 * Joins client and upstream. Bytes flow both ways at once; while the inspector has no verdict each
 * chunk is shown to it first, so a refusal lands before the chunk is forwarded.
 *
 * A tunnel may stay open for hours, so it is built to cost little more than its two sockets: one
 * object per tunnel (this), the socket listeners are module functions shared by every tunnel (each
 * finds its tunnel through the socket), forwarding is write() + pause()/resume() on 'drain' (what
 * pipe() does, without pipe()'s nine closures per direction), the idle timeout is one sweep for all
 * tunnels (`IdleSweep`), and the inspector, its timer and the head's leftover bytes are dropped
 * at the verdict.
 */
export class Tunnel<O> implements Sweepable {
  active = false;
  quietSince = 0;
  private inspector?: Inspector;
  private inspectionTimer?: NodeJS.Timeout;
  private socketsClosed = 0;

  constructor(readonly client: Socket, readonly upstream: Socket, readonly owner: O, private readonly hooks: TunnelHooks<O>, private readonly sweep: IdleSweep) {}

  /** Starts forwarding (and inspecting). Both sockets may be paused; they are resumed here. */
  start(o: TunnelStart): void {
    const { client, upstream } = this;
    (client as TunnelSocket)[TUNNEL] = this;
    (upstream as TunnelSocket)[TUNNEL] = this;
    // Errors end in 'close', which ends the tunnel; an 'error' without a listener would throw.
    if (client.listenerCount('error') === 0) client.on('error', noop);
    if (upstream.listenerCount('error') === 0) upstream.on('error', noop);
    client.on('close', onSocketClose);
    upstream.on('close', onSocketClose);

    const pending = o.pending;
    if (o.inspector) {
      this.inspector = o.inspector;
      const timeoutMs = o.inspectionTimeoutMs;
      this.inspectionTimer = setTimeout(() => this.decide({ kind: 'malformed', eventId: 402, message: `TLS inspection gave no verdict within ${timeoutMs} ms` }), timeoutMs);
      this.inspectionTimer.unref();
      if (pending.length > 0) this.decide(o.inspector.feedClient(pending));
    }
    if (client.destroyed || upstream.destroyed) return;

    if (pending.length > 0) upstream.write(pending);
    this.sweep.add(this);
    for (const s of [client, upstream]) {
      s.on('data', onData);
      s.on('drain', onDrain);
      s.on('end', onEnd);
      s.resume();
    }
  }

  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /** Called by the idle sweep. */
  expire(): void {
    this.hooks.idle(this.owner);
    this.destroy();
  }

  /** The other end of `s`. */
  peerOf(s: Socket): Socket {
    return s === this.client ? this.upstream : this.client;
  }

  /** Shows a chunk to the inspector while there is one; false when the verdict refused the tunnel (drop the chunk). */
  inspect(from: Socket, chunk: Buffer): boolean {
    const inspector = this.inspector;
    if (!inspector) return true;
    this.decide(from === this.client ? inspector.feedClient(chunk) : inspector.feedServer(chunk));
    return !this.client.destroyed;
  }

  socketClosed(): void {
    this.destroy();
    if (++this.socketsClosed !== 2) return;
    if (this.inspectionTimer) clearTimeout(this.inspectionTimer);
    this.sweep.delete(this);
    this.hooks.closed(this.owner);
  }

  private decide(outcome: InspectionOutcome): void {
    if (!this.inspector || outcome.kind === 'pending') return;
    this.inspector = undefined;
    if (this.inspectionTimer) clearTimeout(this.inspectionTimer);
    this.inspectionTimer = undefined;
    if (outcome.kind !== 'verified') this.destroy();
    this.hooks.verdict(this.owner, outcome);
  }
}

// Shared listeners: `this` is the socket that emitted.
function onData(this: TunnelSocket, chunk: Buffer): void {
  const t = this[TUNNEL]!;
  t.active = true;
  if (!t.inspect(this, chunk)) return;
  // Backpressure as pipe() does it: stop reading this side until the other side drains.
  if (!t.peerOf(this).write(chunk)) this.pause();
}

function onDrain(this: TunnelSocket): void {
  this[TUNNEL]!.peerOf(this).resume();
}

/** Half-close: an end from one side ends the other side's writing; its reading goes on (allowHalfOpen). */
function onEnd(this: TunnelSocket): void {
  this[TUNNEL]!.peerOf(this).end();
}

function onSocketClose(this: TunnelSocket): void {
  this[TUNNEL]!.socketClosed();
}

function noop(): void {}
