import { STATUS_CODES } from 'node:http';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, checkServerIdentity, type SecureVersion } from 'node:tls';
import { Agent, type Dispatcher, type buildConnector } from 'undici';
import { AgentError, parseRetryAfter } from '../agent-core/errors.js';
import { openAgentTunnel } from '../agent-core/tunnel.js';
import type { ProxySetting } from '../agent-core/proxy-string.js';

export interface AmaTransportOptions {
  /** Undefined: proxy mode "none", straight to `direct`. */
  proxy?: ProxySetting;
  /**
   * Where a machine with no proxy reaches Azure (DNS does not reach the lab's fake cloud): the
   * fake cloud's port, which serves every host by SNI. Required with proxy mode "none".
   */
  direct?: { host: string; port: number };
  bindAddress?: string;
  caPem: string;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  keepAlive: boolean;
  now: () => number;
  onTunnel?: (info: { target: string; localAddress?: string; localPort?: number }) => void;
}

export interface AmaResponse {
  statusCode: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  retryAfterMs?: number;
}

/**
 * HTTPS to Azure for the Azure Monitor Agent: CONNECT through the proxy (agent-core's tunnel, no
 * client certificate) or direct TLS, with undici doing the HTTP. TLS 1.2-1.3 by default: today's
 * agent offers 1.3.
 */
export class AmaTransport {
  private readonly dispatcher: Agent;
  private readonly closing = new AbortController();

  constructor(private readonly opts: AmaTransportOptions) {
    const connect: buildConnector.connector = (o, callback) => {
      const port = Number(o.port) || 443;
      this.open(o.hostname, port).then(
        (socket) => callback(null, socket),
        (err: Error) => callback(err, null),
      );
    };
    this.dispatcher = new Agent({ connect, connections: 1, pipelining: 1, keepAliveTimeout: opts.keepAlive ? 30_000 : 1, headersTimeout: opts.requestTimeoutMs, bodyTimeout: opts.requestTimeoutMs });
  }

  private async open(host: string, port: number) {
    const tls = { ca: this.opts.caPem, minVersion: this.opts.minVersion, maxVersion: this.opts.maxVersion };
    if (this.opts.proxy) {
      const t = await openAgentTunnel(host, port, { proxy: this.opts.proxy, bindAddress: this.opts.bindAddress, tls, connectTimeoutMs: this.opts.connectTimeoutMs, now: this.opts.now, signal: this.closing.signal });
      this.opts.onTunnel?.({ target: `${host}:${port}`, localAddress: t.localAddress, localPort: t.localPort });
      return t.socket;
    }
    const direct = this.opts.direct!;
    return await new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
      const raw = netConnect({ host: direct.host, port: direct.port, localAddress: this.opts.bindAddress });
      const s = tlsConnect({ socket: raw, servername: host, ...tls, checkServerIdentity: (_n, cert) => checkServerIdentity(host, cert) });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new AgentError(`Timed out after ${this.opts.connectTimeoutMs} ms connecting to ${host}:${port} (no proxy)`, 'timeout', { target: `${host}:${port}` }));
      }, this.opts.connectTimeoutMs);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new AgentError(`Cannot reach ${host}:${port} directly: ${(err as NodeJS.ErrnoException).code ?? err.message}`, 'network', { target: `${host}:${port}`, cause: err }));
      });
    });
  }

  async request(method: Dispatcher.HttpMethod, url: string, headers: Record<string, string>, body?: Buffer): Promise<AmaResponse> {
    const u = new URL(url);
    const target = `${u.hostname}:${u.port || 443}`;
    try {
      const res = await this.dispatcher.request({ origin: u.origin, path: u.pathname + u.search, method, headers, body, reset: !this.opts.keepAlive });
      const buf = Buffer.from(await res.body.arrayBuffer());
      return { statusCode: res.statusCode, statusText: STATUS_CODES[res.statusCode] ?? '', headers: res.headers, body: buf, retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.opts.now()) };
    } catch (err) {
      if (err instanceof AgentError) throw err;
      const e = err as NodeJS.ErrnoException;
      if (e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') throw new AgentError(`Timed out waiting for ${target} to answer`, 'timeout', { target, cause: err });
      throw new AgentError(`Connection to ${target} failed: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}`, 'network', { target, cause: err });
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.dispatcher.destroy();
  }
}
