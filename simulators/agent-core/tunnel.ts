import { STATUS_CODES } from 'node:http';
import { checkServerIdentity, createSecureContext, type SecureContext, type SecureVersion, type TLSSocket } from 'node:tls';
import { openTlsTunnel, TunnelError } from '../../lib/connect/index.js';
import { AgentError, parseRetryAfter } from './errors.js';
import type { ProxySetting } from './proxy-string.js';

/**
 * What a person should check when a tunnel closes mid-handshake: an inspecting gateway refused the
 * TLS session and logged why (105: client certificate not in allowedlist_client.txt, SNI mismatch;
 * 106: TLS version), and the command that shows it.
 */
export const TLS_CLOSE_HINT =
  'likely the gateway refused the TLS session (event 105: client certificate not allowed or SNI mismatch; 106: TLS version); see it with: omsgw events --id 105,106';

export interface AgentTunnelTlsOptions {
  /** The lab CA; nothing else is trusted. */
  ca: string;
  /** Client certificate and key; the Azure Monitor Agent presents none (it authenticates with tokens). */
  cert?: string;
  key?: string;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  /** SNI to send instead of the target host (scenarios test the gateway's SNI check with it). */
  servername?: string;
}

export interface AgentTunnelOptions {
  proxy: ProxySetting;
  /** Local address of the TCP connection to the proxy (127.x.y.z: distinct clients on one machine). */
  bindAddress?: string;
  tls: AgentTunnelTlsOptions;
  /** Extra CONNECT request headers besides Host and Proxy-Authorization. */
  connectHeaders?: Record<string, string>;
  /** Real milliseconds for TCP connect + CONNECT + TLS handshake (the agent's open_timeout is 30 s). */
  connectTimeoutMs: number;
  /** Called with the epoch ms used to judge Retry-After dates. */
  now: () => number;
  /** Aborts a tunnel still being set up (the agent is closing). */
  signal?: AbortSignal;
}

export interface AgentTunnel {
  socket: TLSSocket;
  /** Local port of the TCP connection to the proxy, to correlate with the gateway's 103 event. */
  localPort?: number;
  localAddress?: string;
}

/**
 * Opens `CONNECT host:port` through the proxy (from bindAddress when set) with the harness's one
 * CONNECT client (lib/connect), then TLS inside the tunnel with the agent's client certificate.
 * Fails with an AgentError that says which step failed (e.g. "Proxy CONNECT refused: 403 Forbidden").
 */
export async function openAgentTunnel(host: string, port: number, opts: AgentTunnelOptions): Promise<AgentTunnel> {
  const target = `${host}:${port}`;
  const headers: Record<string, string> = { ...opts.connectHeaders };
  if (opts.proxy.authorization) headers['Proxy-Authorization'] = opts.proxy.authorization;
  // node's http client, which this tunnel used before lib/connect, ended every CONNECT with it: the wire stays the same.
  headers['Connection'] = 'close';
  try {
    const t = await openTlsTunnel(
      { proxy: opts.proxy, authority: target, localAddress: opts.bindAddress, headers, timeoutMs: opts.connectTimeoutMs, signal: opts.signal, leafOnlyIdentityCheck: true },
      {
        servername: opts.tls.servername ?? host,
        secureContext: secureContextFor(opts.tls),
        // The identity is always checked against the host the agent meant to reach, even with an SNI override;
        // node's check reads only the leaf's subject and subjectaltname (leafOnlyIdentityCheck).
        checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
      },
    );
    return { socket: t.socket, localPort: t.localPort, localAddress: t.localAddress };
  } catch (err) {
    throw err instanceof TunnelError ? agentError(err, target, opts) : err;
  }
}

/**
 * One SecureContext per agent, built on its first connection: loading the private key and the CA
 * (OpenSSL's setKey) is most of a client handshake's CPU, and the real agents load them once per
 * process too. Every upload still makes a new TCP connection and a full TLS handshake (no session
 * reuse, as Ruby's Net::HTTP per POST), so what the gateway sees is unchanged.
 */
const contexts = new WeakMap<AgentTunnelTlsOptions, SecureContext>();
function secureContextFor(o: AgentTunnelTlsOptions): SecureContext {
  let ctx = contexts.get(o);
  if (!ctx) {
    ctx = createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, minVersion: o.minVersion, maxVersion: o.maxVersion });
    contexts.set(o, ctx);
  }
  return ctx;
}

/** The agent's words for each way a tunnel fails (the real agents' log lines name the step). */
function agentError(err: TunnelError, target: string, opts: AgentTunnelOptions): AgentError {
  const from = opts.bindAddress ? ` from ${opts.bindAddress}` : '';
  switch (err.failure) {
    case 'aborted':
      return new AgentError(`Tunnel to ${target} abandoned: the agent is closing`, 'network', { target });
    case 'timeout':
      return new AgentError(
        `Timed out after ${opts.connectTimeoutMs} ms ${err.phase === 'tls' ? `in the TLS handshake with ${target}` : `waiting for the proxy ${opts.proxy.display} to answer CONNECT ${target}`}`,
        'timeout',
        { target },
      );
    case 'refused': {
      const a = err.answer!;
      const status = a.status ?? 0;
      const text = a.statusText || STATUS_CODES[status] || '';
      const body = a.rest.length ? ` (${a.rest.toString('utf8', 0, Math.min(a.rest.length, 200)).trim()})` : '';
      return new AgentError(`Proxy CONNECT refused: ${status} ${text}${body}`.trim(), status === 407 ? 'proxy-auth-required' : 'proxy-refused', {
        target,
        proxyStatus: status,
        retryAfterMs: parseRetryAfter(a.headers['retry-after'], opts.now()),
      });
    }
    default:
      break;
  }
  if (err.phase === 'tls') {
    if (err.failure === 'closed') {
      return new AgentError(`TLS handshake with ${target} failed: the tunnel was closed during the handshake; ${TLS_CLOSE_HINT}`, 'network', { target });
    }
    const cause = err.cause as NodeJS.ErrnoException;
    const reset = cause?.code === 'ECONNRESET' || cause?.code === 'EPIPE';
    return new AgentError(
      reset
        ? `TLS handshake with ${target} failed: the connection was closed during the handshake; ${TLS_CLOSE_HINT}`
        : `TLS handshake with ${target} failed: ${cause?.message ?? err.message}`,
      reset ? 'network' : 'tls',
      { target, cause },
    );
  }
  // TCP errors, a close before the answer (node's http calls it a reset) or an answer that is not HTTP.
  const code = err.failure === 'closed' ? 'ECONNRESET' : err.failure === 'bad-reply' ? 'bad CONNECT answer' : (err.code ?? err.message);
  return new AgentError(`Cannot reach the proxy ${opts.proxy.display}${from}: ${code}`, 'proxy-unreachable', { target, cause: err.cause ?? err });
}
