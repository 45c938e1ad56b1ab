import { connect, type Socket } from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

/** Opens a TCP connection to the proxy from a chosen loopback source address. */
export function openSocket(proxy: ProxyTarget, bindAddress: string | undefined, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: proxy.host, port: proxy.port, localAddress: bindAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${proxy.host}:${proxy.port} within ${timeoutMs}ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Writes a request head and reads the response head (up to the blank line), leaving the socket
 * open for what follows (a tunnel). Resolves with the status code, or null when the proxy closed
 * the connection without answering.
 */
export function exchangeHead(socket: Socket, head: string, timeoutMs: number): Promise<{ status: number | null; statusLine: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (result: { status: number | null; statusLine: string; rest: Buffer } | Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const statusLine = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      done({ status: m ? Number(m[1]) : null, statusLine, rest: buf.subarray(end + 4) });
    };
    const onClose = () => done({ status: null, statusLine: '(connection closed without an answer)', rest: buf });
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.write(head);
  });
}
