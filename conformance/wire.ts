import * as net from 'node:net';
import * as tls from 'node:tls';
import type { GatewayTarget } from './types.js';

export interface Reply {
  /** Status code, or null when the gateway closed (or went silent) without a status line. */
  status: number | null;
  statusLine: string;
  headers: Record<string, string>;
  /** Bytes after the head (a refusal's body, or the first tunnel bytes). */
  rest: Buffer;
  /** True when the connection was closed before or right after the head. */
  closed: boolean;
}

export function openSocket(gateway: GatewayTarget, bind: string | undefined, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: gateway.host, port: gateway.port, localAddress: bind, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP connection to ${gateway.host}:${gateway.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Reads the response head; resolves on the blank line, on close, or after timeoutMs (status null, "no answer"). */
export function readReply(socket: net.Socket, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const finish = (reply: Reply): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
      resolve(reply);
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      finish({ status: m ? Number(m[1]) : null, statusLine: lines[0] ?? '', headers, rest: buf.subarray(end + 4), closed: socket.readableEnded || socket.destroyed });
    };
    const onEnd = (): void => {
      const text = buf.toString('latin1');
      finish({ status: null, statusLine: text ? `(closed after ${buf.length} bytes that are no status line: ${JSON.stringify(text.slice(0, 40))})` : '(connection closed without an answer)', headers: {}, rest: buf, closed: true });
    };
    const timer = setTimeout(() => finish({ status: null, statusLine: `(no answer within ${timeoutMs} ms)`, headers: {}, rest: buf, closed: false }), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
  });
}

/** Resolves true when the peer closes (end or close) within timeoutMs, false otherwise. Bytes received meanwhile are returned. */
export function waitClosed(socket: net.Socket, timeoutMs: number): Promise<{ closed: boolean; received: Buffer; afterMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    if (socket.readableEnded || socket.destroyed) return resolve({ closed: true, received: Buffer.alloc(0), afterMs: 0 });
    const onData = (c: Buffer): void => void chunks.push(c);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onClose);
      socket.off('close', onClose);
      socket.off('error', onClose);
      resolve({ closed, received: Buffer.concat(chunks), afterMs: Date.now() - started });
    };
    const onClose = (): void => finish(true);
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onClose);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}

export interface TlsAttempt {
  ok: boolean;
  socket?: tls.TLSSocket;
  protocol?: string;
  error?: string;
}

/** A TLS handshake inside an open tunnel. The echo upstream's certificate is not verified (the case is about the proxy). */
export function tlsInTunnel(tunnel: net.Socket, opts: { servername?: string; minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion; cert?: string; key?: string }, timeoutMs = 5000): Promise<TlsAttempt> {
  return new Promise((resolve) => {
    const socket = tls.connect({ socket: tunnel, servername: opts.servername, minVersion: opts.minVersion, maxVersion: opts.maxVersion, cert: opts.cert, key: opts.key, rejectUnauthorized: false, allowHalfOpen: true } as tls.ConnectionOptions);
    const finish = (r: TlsAttempt): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (!r.ok) socket.destroy();
      resolve(r);
    };
    const onError = (err: Error): void => finish({ ok: false, error: `tunnel closed during the TLS handshake (${err.message})` });
    const onClose = (): void => finish({ ok: false, error: 'tunnel closed during the TLS handshake' });
    const timer = setTimeout(() => finish({ ok: false, error: `no TLS handshake within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => finish({ ok: true, socket, protocol: socket.getProtocol() ?? undefined }));
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

/** Writes `payload` and reads exactly that many bytes back (or what arrived before close/timeout). */
export function roundTrip(socket: net.Socket | tls.TLSSocket, payload: Buffer, expectBytes: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      socket.off('end', finish);
      resolve(Buffer.concat(chunks));
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= expectBytes) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', onData);
    socket.once('close', finish);
    socket.once('end', finish);
    if (payload.length) socket.write(payload);
  });
}
