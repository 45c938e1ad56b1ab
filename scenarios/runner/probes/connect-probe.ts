import type { Socket } from 'node:net';
import { sendConnect, TunnelError } from '../../../lib/connect/index.js';
import type { ProxyTarget } from './raw-request.js';

export interface ProbeTunnel {
  /** null when the proxy closed without answering or did not answer HTTP. */
  status: number | null;
  statusLine: string;
  rest: Buffer;
  /** Open after an answer (the caller destroys it); undefined when the proxy closed without one. */
  socket?: Socket;
}

/**
 * Sends CONNECT target with the harness's CONNECT client and returns the proxy's answer; on 200 the
 * tunnel socket is returned open. A proxy that closes without answering is an answer too (status null).
 */
export async function connectProbeTunnel(proxy: ProxyTarget, bindAddress: string | undefined, target: string, timeoutMs = 5000, headers: Record<string, string> = {}): Promise<ProbeTunnel> {
  try {
    const a = await sendConnect({ proxy, authority: target, localAddress: bindAddress, timeoutMs, headers });
    return { status: a.status, statusLine: a.statusLine, rest: a.rest, socket: a.socket };
  } catch (err) {
    if (err instanceof TunnelError && err.failure === 'closed' && err.phase === 'connect') {
      return { status: null, statusLine: '(connection closed without an answer)', rest: Buffer.alloc(0) };
    }
    if (err instanceof TunnelError && err.failure === 'timeout') {
      throw new Error(err.phase === 'tcp' ? `no connection to ${proxy.host}:${proxy.port} within ${timeoutMs}ms` : `no answer within ${timeoutMs}ms`);
    }
    throw err instanceof TunnelError && err.cause ? err.cause : err;
  }
}

export async function probeConnect(proxy: ProxyTarget, bindAddress: string | undefined, target: string, timeoutMs = 5000): Promise<{ status: number | null; statusLine: string }> {
  const { status, statusLine, socket } = await connectProbeTunnel(proxy, bindAddress, target, timeoutMs);
  socket?.destroy();
  return { status, statusLine };
}

export type { Socket };
