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

/** Opens a TCP connection to the upstream with a timeout; rejects with a classified UpstreamError. */
export function connectDirect(target: DirectTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (target.refusePrivate && isPrivateAddress(target.host)) {
      reject(new UpstreamError('private-upstream', `Target host (${target.label}) is a private address, which is forbidden`));
      return;
    }
    // Half-open like the client side, so an end from either peer travels through the tunnel.
    const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true, lookup: target.refusePrivate ? guardedLookup : undefined });
    let settled = false;
    const timer = setTimeout(() => {
      fail(new UpstreamError('upstream-timeout', `connecting to ${target.label} timed out after ${target.timeoutMs} ms`));
    }, target.timeoutMs);
    timer.unref();
    const fail = (err: UpstreamError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof PrivateAddressError || err.code === 'EPRIVATE') {
        fail(new UpstreamError('private-upstream', `Target host (${target.label}) resolves to private address ${(err as PrivateAddressError).address ?? ''}, which is forbidden`));
        return;
      }
      fail(classifySocketError(err, target.label));
    });
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
