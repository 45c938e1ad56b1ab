import { connect as tlsConnect } from 'node:tls';
import type { ProxyTarget } from './raw-request.js';
import { openTunnel } from './connect-probe.js';

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
  const tunnel = await openTunnel(proxy, bindAddress, target, timeoutMs);
  if (tunnel.status !== 200) {
    tunnel.socket.destroy();
    return { outcome: 'refused', detail: `CONNECT answered: ${tunnel.statusLine}` };
  }
  const host = target.replace(/:\d+$/, '');
  return new Promise((resolve) => {
    const tls = tlsConnect({
      socket: tunnel.socket,
      servername: opts.servername ?? host,
      minVersion: opts.version,
      maxVersion: opts.version,
      rejectUnauthorized: false,
    });
    const finish = (r: TlsProbeResult) => {
      clearTimeout(timer);
      tls.destroy();
      tunnel.socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ outcome: 'closed', detail: `no TLS handshake within ${timeoutMs}ms` }), timeoutMs);
    tls.once('secureConnect', () => finish({ outcome: 'handshake', detail: `${tls.getProtocol()} handshake completed` }));
    tls.once('error', (err) => finish({ outcome: 'closed', detail: `tunnel closed during the handshake (${err.message})` }));
    tls.once('close', () => finish({ outcome: 'closed', detail: 'tunnel closed during the handshake' }));
  });
}
