import net from 'node:net';
import tls from 'node:tls';
import { openTlsTunnel, TunnelError } from '../../lib/connect/index.js';
import { KindError, errorKind } from './stats.js';
import type { DriverOptions } from './types.js';

/** Observes raw client connections (the ground truth the gateway's Active Client Connection is compared with). */
export interface ConnectionObserver {
  opened(localAddress: string | undefined): void;
  closed(): void;
  connectStatus(status: string): void;
}

/** One TLS context per driver: building it per connection (parsing keys and CA) would cost more than the handshake. */
export function driverSecureContext(t: DriverOptions['tls']): tls.SecureContext {
  return tls.createSecureContext({ ca: t.ca, cert: t.cert, key: t.key, minVersion: t.minVersion ?? 'TLSv1.2', maxVersion: t.maxVersion ?? 'TLSv1.2' });
}

/**
 * Opens one driver tunnel with the harness's CONNECT client (lib/connect): TCP to the proxy,
 * `CONNECT host:port`, then a TLS handshake through it. Without a proxy it opens TLS straight to the
 * target (the "direct" baseline). Failures are KindErrors with the driver's stable kinds
 * (timeout, connect_closed, closed, connect_403, connect_bad_reply, econnreset, tls_...).
 */
export async function openDriverTunnel(opts: DriverOptions, localAddress: string | undefined, observer: ConnectionObserver, secureContext?: tls.SecureContext): Promise<tls.TLSSocket> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const headers: Record<string, string> = {};
  if (opts.proxyAuth) headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${opts.proxyAuth.username}:${opts.proxyAuth.password}`).toString('base64')}`;
  const t = opts.tls;
  try {
    const tunnel = await openTlsTunnel(
      {
        proxy: opts.proxy,
        direct: opts.direct ?? opts.target,
        authority: `${opts.target.host}:${opts.target.port}`,
        localAddress,
        headers,
        timeoutMs,
        onConnected: (raw) => {
          observer.opened(localAddress);
          raw.once('close', () => observer.closed());
        },
        onAnswer: (a) => observer.connectStatus(a.status === null ? 'bad_reply' : String(a.status)),
      },
      {
        servername: t.servername ?? (net.isIP(opts.target.host) ? undefined : opts.target.host),
        secureContext: secureContext ?? driverSecureContext(t),
        minVersion: t.minVersion ?? 'TLSv1.2',
        maxVersion: t.maxVersion ?? 'TLSv1.2',
        checkServerIdentity: t.skipHostnameCheck ? () => undefined : undefined,
      },
    );
    return tunnel.socket;
  } catch (err) {
    throw driverError(err, timeoutMs, Boolean(opts.proxy));
  }
}

function driverError(err: unknown, timeoutMs: number, viaProxy: boolean): KindError {
  if (!(err instanceof TunnelError)) return new KindError(errorKind(err), (err as Error)?.message ?? String(err));
  switch (err.failure) {
    case 'timeout':
      return new KindError('timeout', `tunnel setup took longer than ${timeoutMs} ms`);
    case 'closed':
      return new KindError(viaProxy && err.phase !== 'tls' ? 'connect_closed' : 'closed', 'connection closed during tunnel setup');
    case 'refused': {
      const status = err.answer?.status === null || err.answer?.status === undefined ? 'bad_reply' : String(err.answer.status);
      return new KindError(`connect_${status}`, `proxy answered CONNECT with ${status}`);
    }
    case 'bad-reply':
      return new KindError('connect_bad_reply', err.message);
    default:
      return new KindError(errorKind(err.cause ?? err), (err.cause as Error | undefined)?.message ?? err.message);
  }
}
