import { connect as tlsConnect } from 'node:tls';
import { withDeadline } from '../../../lib/connect/index.js';
import type { ProxyTarget } from './raw-request.js';
import { connectProbeTunnel } from './connect-probe.js';

export interface TlsProbeResult {
  /** 'handshake': TLS completed through the tunnel; 'closed': the tunnel was cut first; 'refused': CONNECT was not answered 200. */
  outcome: 'handshake' | 'closed' | 'refused';
  detail: string;
}

/**
 * CONNECTs through the proxy then starts a TLS handshake inside the tunnel, with the version and SNI
 * asked for. The proxy inspects the ClientHello passively; a policy refusal shows as the tunnel closing.
 * The server certificate is not verified: the probe is about what the proxy lets through.
 */
export async function probeTls(
  proxy: ProxyTarget,
  bindAddress: string | undefined,
  target: string,
  opts: { version: 'TLSv1.2' | 'TLSv1.3'; servername?: string },
  timeoutMs = 5000,
): Promise<TlsProbeResult> {
  const tunnel = await connectProbeTunnel(proxy, bindAddress, target, timeoutMs);
  if (tunnel.status !== 200 || !tunnel.socket) {
    tunnel.socket?.destroy();
    return { outcome: 'refused', detail: `CONNECT answered: ${tunnel.statusLine}` };
  }
  const socket = tunnel.socket;
  if (tunnel.rest.length) socket.unshift(tunnel.rest);
  const host = target.replace(/:\d+$/, '');
  // Every outcome resolves (the deadline too): the probe reports what the proxy did, it does not fail.
  return withDeadline<TlsProbeResult>({ timeoutMs, onTimeout: (s) => s.resolve({ outcome: 'closed', detail: `no TLS handshake within ${timeoutMs}ms` }) }, (s) => {
    const tls = tlsConnect({ socket, servername: opts.servername ?? host, minVersion: opts.version, maxVersion: opts.version, rejectUnauthorized: false });
    s.onSettled(() => {
      tls.destroy();
      socket.destroy();
    });
    tls.once('secureConnect', () => s.resolve({ outcome: 'handshake', detail: `${tls.getProtocol()} handshake completed` }));
    tls.once('error', (err) => s.resolve({ outcome: 'closed', detail: `tunnel closed during the handshake (${err.message})` }));
    tls.once('close', () => s.resolve({ outcome: 'closed', detail: 'tunnel closed during the handshake' }));
  });
}
