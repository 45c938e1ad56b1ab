import { STATUS_CODES } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Client, type Dispatcher, type buildConnector } from 'undici';
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
 *
 * One undici Client per origin, kept for the agent's life. (An undici Agent drops its Client for an
 * origin whenever that Client's connection closes, and builds a new one for the next request: with a
 * new connection per call, that was a Client, its listeners and option checks per request.) A Client
 * whose connection closed opens the next one through the connector when the next request comes.
 */
export class AgentHttpClient {
  private readonly clients = new Map<string, Client>();
  /** Origin, path and `host:port` of each URL called (an agent calls a handful of URLs, over and over). */
  private readonly urls = new Map<string, { origin: string; path: string; target: string }>();
  private readonly closing = new AbortController();
  private readonly connect: buildConnector.connector;

  constructor(private readonly opts: AgentHttpClientOptions) {
    this.connect = (o, callback) => {
      const port = Number(o.port) || 443;
      openAgentTunnel(o.hostname, port, { ...opts, signal: this.closing.signal }).then(
        (t) => {
          opts.onTunnel?.({ target: `${o.hostname}:${port}`, localAddress: t.localAddress, localPort: t.localPort });
          callback(null, withPlainExpectedClose(t.socket));
        },
        (err: Error) => callback(err, null),
      );
    };
  }

  post(url: string, headers: Record<string, string>, body: string | Buffer): Promise<HttpResponse> {
    return this.request('POST', url, headers, body);
  }

  /**
   * One request through the agent's Client for the URL's origin, dispatched with a handler that
   * gathers the answer: no response stream, async resource or body-consuming promise per request.
   */
  request(method: Dispatcher.HttpMethod, url: string, headers: Record<string, string>, body?: string | Buffer): Promise<HttpResponse> {
    const u = this.parse(url);
    const now = this.opts.now;
    return new Promise<HttpResponse>((resolve, reject) => {
      let statusCode = 0;
      let resHeaders: Record<string, string | string[] | undefined> = {};
      let chunks: Buffer[] = [];
      this.clientFor(u.origin).dispatch(
        { path: u.path, method, headers, body, reset: !this.opts.keepAlive },
        {
          onRequestStart: () => undefined,
          // Called again after a 1xx answer: the last one is the response.
          onResponseStart: (_c, status, h) => {
            statusCode = status;
            resHeaders = h;
            chunks = [];
          },
          onResponseData: (_c, chunk) => void chunks.push(chunk),
          onResponseEnd: () =>
            resolve({
              statusCode,
              statusText: STATUS_CODES[statusCode] ?? '',
              headers: resHeaders,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
              retryAfterMs: parseRetryAfter(resHeaders['retry-after'], now()),
            }),
          onResponseError: (_c, err) => reject(classify(err, u.target)),
        },
      );
    });
  }

  async close(): Promise<void> {
    this.closing.abort();
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.destroy()));
  }

  private clientFor(origin: string): Client {
    let c = this.clients.get(origin);
    if (!c) {
      c = new Client(origin, {
        connect: this.connect,
        pipelining: 1,
        keepAliveTimeout: this.opts.keepAlive ? 30_000 : 1,
        headersTimeout: this.opts.requestTimeoutMs,
        bodyTimeout: this.opts.requestTimeoutMs,
      });
      this.clients.set(origin, c);
    }
    return c;
  }

  private parse(url: string): { origin: string; path: string; target: string } {
    let u = this.urls.get(url);
    if (!u) {
      const p = new URL(url);
      u = { origin: p.origin, path: p.pathname + p.search, target: `${p.hostname}:${p.port || 443}` };
      this.urls.set(url, u);
    }
    return u;
  }
}

/**
 * undici closes a connection it will not reuse (the agent's `reset`, a `Connection: close` answer,
 * an idle keep-alive) with `destroy(new InformationalError(...))`, and node's stream destroy reads
 * that error's `stack`, formatting its frames, for a close the agent asked for. Such an error (code UND_ERR_INFO) gets its one-line text as its stack instead; every
 * other error, and undici's handling of this one, is unchanged.
 */
function withPlainExpectedClose(socket: TLSSocket): TLSSocket {
  const destroy = socket.destroy;
  socket.destroy = function (this: TLSSocket, err?: Error) {
    // Assigned, not defined: V8's setter drops the captured frames unformatted (defineProperty formats them first).
    if (err && (err as { code?: unknown }).code === 'UND_ERR_INFO') err.stack = `${err.name}: ${err.message}`;
    return destroy.call(this, err);
  };
  return socket;
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
