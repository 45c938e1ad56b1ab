import type { Socket } from 'node:net';
import { exchangeHead, openSocket, type ProxyTarget } from './raw-request.js';

/** Sends CONNECT target and returns the proxy's answer; on 200 the tunnel socket is returned open. */
export async function openTunnel(proxy: ProxyTarget, bindAddress: string | undefined, target: string, timeoutMs = 5000, headers: string[] = []) {
  const socket = await openSocket(proxy, bindAddress, timeoutMs);
  try {
    const answer = await exchangeHead(socket, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`, timeoutMs);
    return { ...answer, socket };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

export async function probeConnect(proxy: ProxyTarget, bindAddress: string | undefined, target: string, timeoutMs = 5000): Promise<{ status: number | null; statusLine: string }> {
  const { status, statusLine, socket } = await openTunnel(proxy, bindAddress, target, timeoutMs);
  socket.destroy();
  return { status, statusLine };
}

export type { Socket };
