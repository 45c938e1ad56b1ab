import { STATUS_CODES } from 'node:http';
import { Agent, type Dispatcher, type buildConnector } from 'undici';
import type { ClientCertificate } from './certificate.js';
import { AgentError, parseRetryAfter } from './errors.js';
import { DEFAULT_TLS_MAX, type AgentOptions } from './options.js';
import type { ProxySetting } from './proxy-string.js';
import { openAgentTunnel, type AgentTunnelOptions } from './tunnel.js';

export interface HttpResponse {
  statusCode: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  retryAfterMs?: number;
}

export interface AgentHttpClientOptions extends AgentTunnelOptions {
  /** Real milliseconds to wait for the response headers and body. */
  requestTimeoutMs: number;
  /**
   * Keep tunnels open between requests. Off by default: the real agents open a new connection
   * (CONNECT + TLS) per call (curl for onboarding, Net::HTTP#start per upload), which is what the
   * gateway's 103/107 events and counters should see.
   */
  keepAlive?: boolean;
  /** Told about each tunnel opened (for logs and correlation with gateway events). */
  onTunnel?: (info: { target: string; localAddress?: string; localPort?: number }) => void;
}

/**
 * HTTPS through a CONNECT proxy with a client certificate: undici does the HTTP, the connector
 * (openAgentTunnel) does CONNECT from the bind address and TLS with the agent's settings.
 */
export class AgentHttpClient {
  private readonly dispatcher: Agent;
  private readonly closing = new AbortController();

  constructor(private readonly opts: AgentHttpClientOptions) {
    const connect: buildConnector.connector = (o, callback) => {
      const port = Number(o.port) || 443;
      openAgentTunnel(o.hostname, port, { ...opts, signal: this.closing.signal }).then(
        (t) => {
          opts.onTunnel?.({ target: `${o.hostname}:${port}`, localAddress: t.localAddress, localPort: t.localPort });
          callback(null, t.socket);
        },
        (err: Error) => callback(err, null),
      );
    };
    this.dispatcher = new Agent({
      connect,
      connections: 1,
      pipelining: 1,
      keepAliveTimeout: opts.keepAlive ? 30_000 : 1,
      headersTimeout: opts.requestTimeoutMs,
      bodyTimeout: opts.requestTimeoutMs,
    });
  }

  async post(url: string, headers: Record<string, string>, body: string | Buffer): Promise<HttpResponse> {
    return this.request('POST', url, headers, body);
  }

  async request(method: Dispatcher.HttpMethod, url: string, headers: Record<string, string>, body?: string | Buffer): Promise<HttpResponse> {
    const target = targetOf(url);
    try {
      const res = await this.dispatcher.request({
        origin: new URL(url).origin,
        path: new URL(url).pathname + new URL(url).search,
        method,
        headers,
        body,
        reset: !this.opts.keepAlive,
      });
      const buf = Buffer.from(await res.body.arrayBuffer());
      return {
        statusCode: res.statusCode,
        statusText: STATUS_CODES[res.statusCode] ?? '',
        headers: res.headers,
        body: buf,
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.opts.now()),
      };
    } catch (err) {
      throw classify(err, target);
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.dispatcher.destroy();
  }
}

/** The client an agent with these options uses: its CA, certificate, TLS versions, timeouts, proxy and bind address. */
export function agentHttpClient(
  opts: AgentOptions,
  proxy: ProxySetting,
  cert: ClientCertificate,
  connectHeaders: Record<string, string>,
  hooks: Pick<AgentHttpClientOptions, 'now' | 'onTunnel'>,
): AgentHttpClient {
  return new AgentHttpClient({
    proxy,
    bindAddress: opts.bindAddress,
    tls: {
      ca: opts.caPem,
      cert: cert.certPem,
      key: cert.keyPem,
      minVersion: opts.tls?.minVersion ?? 'TLSv1',
      maxVersion: opts.tls?.maxVersion ?? DEFAULT_TLS_MAX,
      servername: opts.tls?.servername,
    },
    connectHeaders,
    connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
    requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
    keepAlive: opts.keepAlive,
    ...hooks,
  });
}

function targetOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 443}`;
}

function classify(err: unknown, target: string): AgentError {
  if (err instanceof AgentError) return err;
  const e = err as NodeJS.ErrnoException & { code?: string };
  const code = e?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new AgentError(`Timed out waiting for ${target} to answer`, 'timeout', { target, cause: err });
  }
  if (code === 'UND_ERR_DESTROYED') return new AgentError(`Call to ${target} abandoned: the agent is closing`, 'network', { target, cause: err });
  return new AgentError(`Connection to ${target} through the proxy failed: ${e?.message ?? String(err)}${code ? ` (${code})` : ''}`, 'network', { target, cause: err });
}
