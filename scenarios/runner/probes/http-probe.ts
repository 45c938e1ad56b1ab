import { exchangeHead, openSocket, type ProxyTarget } from './raw-request.js';

/** Sends a plain (non-CONNECT) proxy request, e.g. GET http://host/ , and returns the status the proxy answered. */
export async function probeHttp(proxy: ProxyTarget, bindAddress: string | undefined, method: string, url: string, timeoutMs = 5000) {
  const socket = await openSocket(proxy, bindAddress, timeoutMs);
  try {
    const host = new URL(url).host;
    return await exchangeHead(socket, `${method} ${url} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, timeoutMs);
  } finally {
    socket.destroy();
  }
}
