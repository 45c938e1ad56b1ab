import net from 'node:net';
import tls from 'node:tls';
import { KindError, errorKind } from './stats.js';
import type { DriverOptions } from './types.js';

/** Observes raw client connections (the ground truth the gateway's Active Client Connection is compared with). */
export interface ConnectionObserver {
  opened(localAddress: string | undefined): void;
  closed(): void;
  connectStatus(status: string): void;
}

/**
 * Opens one tunnel: TCP to the proxy, `CONNECT host:port`, then a TLS handshake through it.
 * Without a proxy it opens TLS straight to the target (the "direct" baseline).
 */
/** One TLS context per driver: building it per connection (parsing keys and CA) would cost more than the handshake. */
export function driverSecureContext(t: DriverOptions['tls']): tls.SecureContext {
  return tls.createSecureContext({ ca: t.ca, cert: t.cert, key: t.key, minVersion: t.minVersion ?? 'TLSv1.2', maxVersion: t.maxVersion ?? 'TLSv1.2' });
}

export function openTunnel(opts: DriverOptions, localAddress: string | undefined, observer: ConnectionObserver, secureContext?: tls.SecureContext): Promise<tls.TLSSocket> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const endpoint = opts.proxy ?? opts.direct ?? opts.target;
    const raw = net.connect({ host: endpoint.host, port: endpoint.port, localAddress, noDelay: true });
    let settled = false;
    let counted = false;
    let secure: tls.TLSSocket | undefined;
    const timer = setTimeout(() => fail(new KindError('timeout', `tunnel setup took longer than ${timeoutMs} ms`)), timeoutMs);
    function fail(err: unknown): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      secure?.destroy();
      raw.destroy();
      reject(err instanceof KindError ? err : new KindError(errorKind(err), (err as Error)?.message ?? String(err)));
    }
    raw.once('connect', () => {
      counted = true;
      observer.opened(localAddress);
      if (opts.proxy) sendConnect();
      else startTls();
    });
    raw.once('close', () => {
      if (counted) observer.closed();
      fail(new KindError(opts.proxy && !secure ? 'connect_closed' : 'closed', 'connection closed during tunnel setup'));
    });
    raw.on('error', (err) => fail(err));

    function sendConnect(): void {
      const authority = `${opts.target.host}:${opts.target.port}`;
      let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
      if (opts.proxyAuth) {
        const token = Buffer.from(`${opts.proxyAuth.username}:${opts.proxyAuth.password}`).toString('base64');
        head += `Proxy-Authorization: Basic ${token}\r\n`;
      }
      raw.write(head + '\r\n');
      let buf: Buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > 16384) fail(new KindError('connect_bad_reply', 'CONNECT reply header larger than 16 KiB'));
          return;
        }
        raw.removeListener('data', onData);
        raw.pause();
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, end).toString('latin1'));
        const status = m ? m[1] : 'bad_reply';
        observer.connectStatus(status);
        if (status !== '200') {
          fail(new KindError(`connect_${status}`, `proxy answered CONNECT with ${status}`));
          return;
        }
        const rest = buf.subarray(end + 4);
        if (rest.length) raw.unshift(rest);
        startTls();
      };
      raw.on('data', onData);
    }

    function startTls(): void {
      const t = opts.tls;
      secure = tls.connect({
        socket: raw,
        servername: t.servername ?? (net.isIP(opts.target.host) ? undefined : opts.target.host),
        secureContext: secureContext ?? driverSecureContext(t),
        minVersion: t.minVersion ?? 'TLSv1.2',
        maxVersion: t.maxVersion ?? 'TLSv1.2',
        checkServerIdentity: t.skipHostnameCheck ? () => undefined : undefined,
      });
      secure.once('secureConnect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        raw.removeAllListeners('error');
        raw.on('error', () => undefined); // reported through the TLS socket
        resolve(secure!);
      });
      secure.on('error', (err) => fail(err));
    }
  });
}
