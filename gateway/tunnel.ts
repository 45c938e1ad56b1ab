import type { Socket } from 'node:net';
import type { InspectionOutcome } from './tls/types.js';

/** What the tunnel needs from a TLS inspector (gateway/tls/inspector.ts implements it). */
export interface Inspector {
  feedClient(chunk: Buffer): InspectionOutcome;
  feedServer(chunk: Buffer): InspectionOutcome;
}

export type Verdict = Exclude<InspectionOutcome, { kind: 'pending' }>;

export interface TunnelOptions {
  client: Socket;
  upstream: Socket;
  /** Client bytes that arrived with (or right after) the CONNECT head: sent upstream first. */
  pending: Buffer;
  /** Absent: pure forwarding with no inspection. */
  inspector?: Inspector;
  inspectionTimeoutMs: number;
  idleTimeoutMs: number;
  /** Called once with the inspection verdict; on anything but `verified` the tunnel is already torn down. */
  onVerdict(verdict: Verdict): void;
  onIdle(): void;
  /** Called once when both sockets are gone. */
  onClose(): void;
}

export interface Tunnel {
  destroy(): void;
}

/**
 * Joins client and upstream. Bytes flow both ways at once; while the inspector has no verdict each
 * chunk is also shown to it (its listener runs before the pipe's, so a refusal lands before the chunk
 * is forwarded). After `verified` the listeners are removed and only the plain pipes remain.
 *
 * A tunnel may stay open for hours: the closures that outlive the handshake capture only the two
 * sockets and the callbacks, never `o` (which holds the head's leftover bytes) nor the inspector after
 * its verdict (its record buffers and parsed hello), so an idle tunnel costs little more than its sockets.
 */
export function startTunnel(o: TunnelOptions): Tunnel {
  const { client, upstream, onClose, onIdle } = o;
  let closed = 0;
  let timer: NodeJS.Timeout | undefined;

  const destroy = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const onSocketClose = (): void => {
    destroy();
    if (++closed === 2) {
      if (timer) clearTimeout(timer);
      onClose();
    }
  };
  client.on('error', noop);
  upstream.on('error', noop);
  // A socket emits 'close' once: plain listeners do what once() would, without a wrapper per tunnel.
  client.on('close', onSocketClose);
  upstream.on('close', onSocketClose);

  const pending = o.pending;
  if (o.inspector) {
    // Only these closures see the inspector; after the verdict nothing refers to them any more.
    let inspector: Inspector | undefined = o.inspector;
    const onVerdict = o.onVerdict;
    const decide = (outcome: InspectionOutcome): void => {
      if (!inspector || outcome.kind === 'pending') return;
      inspector = undefined;
      if (timer) clearTimeout(timer);
      timer = undefined;
      client.removeListener('data', onClientData);
      upstream.removeListener('data', onServerData);
      if (outcome.kind !== 'verified') destroy();
      onVerdict(outcome);
    };
    const onClientData = (chunk: Buffer): void => {
      if (inspector) decide(inspector.feedClient(chunk));
    };
    const onServerData = (chunk: Buffer): void => {
      if (inspector) decide(inspector.feedServer(chunk));
    };
    client.on('data', onClientData);
    upstream.on('data', onServerData);
    const timeoutMs = o.inspectionTimeoutMs;
    timer = setTimeout(() => decide({ kind: 'malformed', eventId: 402, message: `TLS inspection gave no verdict within ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
    if (pending.length > 0) decide(inspector.feedClient(pending));
  }
  if (client.destroyed || upstream.destroyed) return { destroy };

  if (pending.length > 0) upstream.write(pending);
  // setTimeout(ms) + on('timeout'): setTimeout(ms, cb) would add a once() wrapper; 'timeout' ends the tunnel anyway.
  client.setTimeout(o.idleTimeoutMs);
  client.on('timeout', () => {
    onIdle();
    destroy();
  });
  client.pipe(upstream);
  upstream.pipe(client);
  return { destroy };
}

function noop(): void {}
