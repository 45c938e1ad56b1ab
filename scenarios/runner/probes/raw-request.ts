import { connect, type Socket } from 'node:net';
import { withDeadline } from '../../../lib/connect/index.js';

export interface ProxyTarget {
  host: string;
  port: number;
}

/** Opens a TCP connection to the proxy from a chosen loopback source address. */
export function openSocket(proxy: ProxyTarget, bindAddress: string | undefined, timeoutMs: number): Promise<Socket> {
  return withDeadline<Socket>({ timeoutMs, onTimeout: (s) => s.reject(new Error(`no connection to ${proxy.host}:${proxy.port} within ${timeoutMs}ms`)) }, (s) => {
    const socket = connect({ host: proxy.host, port: proxy.port, localAddress: bindAddress });
    s.onFail(() => socket.destroy());
    // Stays attached after the connect (a no-op then): a later error must not go unhandled.
    socket.on('error', (err) => s.reject(err));
    socket.once('connect', () => s.resolve(socket));
  });
}

export interface HeadAnswer {
  status: number | null;
  statusLine: string;
  rest: Buffer;
}

/**
 * Writes a request head and reads the response head (up to the blank line), leaving the socket
 * open for what follows (a tunnel). Resolves with the status code, or null when the proxy closed
 * the connection without answering.
 */
export function exchangeHead(socket: Socket, head: string, timeoutMs: number): Promise<HeadAnswer> {
  return withDeadline<HeadAnswer>({ timeoutMs, onTimeout: (s) => s.reject(new Error(`no answer within ${timeoutMs}ms`)) }, (s) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const statusLine = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      s.resolve({ status: m ? Number(m[1]) : null, statusLine, rest: buf.subarray(end + 4) });
    };
    const onClose = (): void => s.resolve({ status: null, statusLine: '(connection closed without an answer)', rest: buf });
    const onError = (err: Error): void => s.reject(err);
    s.onSettled(() => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    });
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.write(head);
  });
}
