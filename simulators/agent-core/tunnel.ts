import { STATUS_CODES, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type SecureVersion, type TLSSocket } from 'node:tls';
import { AgentError, parseRetryAfter } from './errors.js';
import type { ProxySetting } from './proxy-string.js';

export interface TunnelTlsOptions {
  /** The lab CA; nothing else is trusted. */
  ca: string;
  cert: string;
  key: string;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  /** SNI to send instead of the target host (scenarios test the gateway's SNI check with it). */
  servername?: string;
}

export interface TunnelOptions {
  proxy: ProxySetting;
  /** Local address of the TCP connection to the proxy (127.x.y.z: distinct clients on one machine). */
  bindAddress?: string;
  tls: TunnelTlsOptions;
  /** Extra CONNECT request headers besides Host and Proxy-Authorization. */
  connectHeaders?: Record<string, string>;
  /** Real milliseconds for TCP connect + CONNECT + TLS handshake (the agent's open_timeout is 30 s). */
  connectTimeoutMs: number;
  /** Called with the epoch ms used to judge Retry-After dates. */
  now: () => number;
  /** Aborts a tunnel still being set up (the agent is closing). */
  signal?: AbortSignal;
}

export interface Tunnel {
  socket: TLSSocket;
  /** Local port of the TCP connection to the proxy, to correlate with the gateway's 103 event. */
  localPort?: number;
  localAddress?: string;
}

/**
 * Opens `CONNECT host:port` through the proxy (from bindAddress when set), then TLS inside the
 * tunnel with the agent's client certificate. Fails with an AgentError that says which step failed
 * (e.g. "Proxy CONNECT refused: 403 Forbidden").
 */
export function openTunnel(host: string, port: number, opts: TunnelOptions): Promise<Tunnel> {
  const target = `${host}:${port}`;
  return new Promise<Tunnel>((resolve, reject) => {
    let settled = false;
    let rawSocket: Socket | undefined;
    let tlsSocket: TLSSocket | undefined;
    const fail = (err: AgentError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      rawSocket?.destroy();
      tlsSocket?.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new AgentError(`Timed out after ${opts.connectTimeoutMs} ms ${tlsSocket ? `in the TLS handshake with ${target}` : `waiting for the proxy ${opts.proxy.display} to answer CONNECT ${target}`}`, 'timeout', { target })),
      opts.connectTimeoutMs,
    );
    timer.unref?.();
    const onAbort = () => fail(new AgentError(`Tunnel to ${target} abandoned: the agent is closing`, 'network', { target }));
    if (opts.signal?.aborted) {
      queueMicrotask(onAbort);
    } else opts.signal?.addEventListener('abort', onAbort, { once: true });

    const headers: Record<string, string> = { Host: target, ...opts.connectHeaders };
    if (opts.proxy.authorization) headers['Proxy-Authorization'] = opts.proxy.authorization;
    const req = httpRequest({
      host: opts.proxy.host,
      port: opts.proxy.port,
      method: 'CONNECT',
      path: target,
      headers,
      setHost: false,
      agent: false,
      localAddress: opts.bindAddress,
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      fail(
        new AgentError(`Cannot reach the proxy ${opts.proxy.display}${opts.bindAddress ? ` from ${opts.bindAddress}` : ''}: ${err.code ?? err.message}`, 'proxy-unreachable', {
          target,
          cause: err,
        }),
      );
    });
    req.on('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      rawSocket = socket;
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        const text = res.statusMessage || STATUS_CODES[status] || '';
        const kind = status === 407 ? 'proxy-auth-required' : 'proxy-refused';
        const body = head.length ? ` (${head.toString('utf8', 0, Math.min(head.length, 200)).trim()})` : '';
        fail(
          new AgentError(`Proxy CONNECT refused: ${status} ${text}${body}`.trim(), kind, {
            target,
            proxyStatus: status,
            retryAfterMs: parseRetryAfter(res.headers['retry-after'], opts.now()),
          }),
        );
        return;
      }
      if (head.length) socket.unshift(head);
      const local = { localPort: socket.localPort, localAddress: socket.localAddress };
      tlsSocket = tlsConnect({
        socket,
        servername: opts.tls.servername ?? host,
        ca: opts.tls.ca,
        cert: opts.tls.cert,
        key: opts.tls.key,
        minVersion: opts.tls.minVersion,
        maxVersion: opts.tls.maxVersion,
        // The identity is always checked against the host the agent meant to reach, even with an SNI override.
        checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
      });
      tlsSocket.once('secureConnect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        tlsSocket!.removeAllListeners('error');
        resolve({ socket: tlsSocket!, ...local });
      });
      tlsSocket.once('error', (err: NodeJS.ErrnoException) => {
        const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
        fail(
          new AgentError(
            reset
              ? `TLS handshake with ${target} failed: the connection was closed during the handshake (a proxy that inspects TLS may have refused it)`
              : `TLS handshake with ${target} failed: ${err.message}`,
            reset ? 'network' : 'tls',
            { target, cause: err },
          ),
        );
      });
      socket.once('close', () => {
        if (!settled) fail(new AgentError(`TLS handshake with ${target} failed: the tunnel was closed during the handshake (a proxy that inspects TLS may have refused it)`, 'network', { target }));
      });
    });
    req.end();
  });
}
