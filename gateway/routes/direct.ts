import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { connect, type LookupFunction, type Socket } from 'node:net';
import { isPrivateAddress } from './address-class.js';
import { classifySocketError, UpstreamError } from './upstream-error.js';

export interface DirectTarget {
  /** Address or name to connect to (a host-map target, or the CONNECT host itself). */
  host: string;
  port: number;
  /** Shown in messages: the CONNECT authority. */
  label: string;
  /** Refuse addresses that resolve to loopback/private/link-local (unmapped hosts only). */
  refusePrivate: boolean;
  timeoutMs: number;
}

class PrivateAddressError extends Error {
  readonly code = 'EPRIVATE';
  constructor(readonly address: string) {
    super(`resolves to private address ${address}`);
  }
}

/** DNS lookup that fails when a name resolves to an address a direct route must not reach. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, options, (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
    if (err) return callback(err, address as string, family);
    const list = Array.isArray(address) ? address.map((a) => a.address) : [address];
    const bad = list.find(isPrivateAddress);
    if (bad) return callback(new PrivateAddressError(bad) as unknown as NodeJS.ErrnoException, '', 4);
    callback(null, address as string, family);
  });
};

/** A connection attempt in progress: what its socket's listeners settle; gone once it connected or failed. */
interface Attempt {
  failed(err: NodeJS.ErrnoException): void;
  connected(): void;
}
const attempts = new WeakMap<Socket, Attempt>();

/**
 * The upstream socket's 'error' and 'connect' listeners, shared by every upstream and never removed.
 * After the attempt they do nothing ('error' then ends in 'close', which the tunnel handles). Removing
 * them instead (once(), removeAllListeners) deletes keys from the socket's listener table, which V8
 * then turns into a slow dictionary: about 400 bytes more for as long as the tunnel is open.
 */
function onAttemptError(this: Socket, err: NodeJS.ErrnoException): void {
  attempts.get(this)?.failed(err);
}
function onAttemptConnect(this: Socket): void {
  attempts.get(this)?.connected();
}

/** Opens a TCP connection to the upstream with a timeout; rejects with a classified UpstreamError. */
export function connectDirect(target: DirectTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (target.refusePrivate && isPrivateAddress(target.host)) {
      reject(new UpstreamError('private-upstream', `Target host (${target.label}) is a private address, which is forbidden`));
      return;
    }
    // Half-open like the client side, so an end from either peer travels through the tunnel.
    const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true, lookup: target.refusePrivate ? guardedLookup : undefined });
    const timer = setTimeout(() => {
      fail(new UpstreamError('upstream-timeout', `connecting to ${target.label} timed out after ${target.timeoutMs} ms`));
    }, target.timeoutMs);
    timer.unref();
    const settle = (): boolean => {
      if (!attempts.delete(socket)) return false;
      clearTimeout(timer);
      return true;
    };
    const fail = (err: UpstreamError): void => {
      if (!settle()) return;
      socket.destroy();
      reject(err);
    };
    attempts.set(socket, {
      failed: (err) => {
        if (err instanceof PrivateAddressError || err.code === 'EPRIVATE') {
          fail(new UpstreamError('private-upstream', `Target host (${target.label}) resolves to private address ${(err as PrivateAddressError).address ?? ''}, which is forbidden`));
          return;
        }
        fail(classifySocketError(err, target.label));
      },
      connected: () => {
        if (!settle()) return;
        socket.setNoDelay(true);
        resolve(socket);
      },
    });
    socket.on('error', onAttemptError);
    socket.on('connect', onAttemptConnect);
  });
}
