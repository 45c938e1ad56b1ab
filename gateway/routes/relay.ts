import { connect, type Socket } from 'node:net';
import { InputError } from '../../lib/errors.js';
import { classifySocketError, UpstreamError } from './upstream-error.js';

export interface RelayProxy {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

/** Parses `http://[user:pass@]host:port` (blank = none). Credentials may be percent-encoded. */
export function parseRelayProxy(value: string, where: string): RelayProxy | undefined {
  if (value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${where} must be a URL like http://[user:pass@]host:port, got ${JSON.stringify(maskRelayUrl(value))}`);
  }
  if (url.protocol !== 'http:') throw new InputError(`${where} must use http:// (the relay proxy is spoken to in clear, like the real gateway), got ${url.protocol}`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw new InputError(`${where} must be http://[user:pass@]host:port with no path or query`);
  if (!url.hostname) throw new InputError(`${where} has no host`);
  const port = url.port ? Number(url.port) : 80;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

export function formatRelayProxy(relay: RelayProxy | undefined, maskPassword = true): string {
  if (!relay) return '';
  const host = relay.host.includes(':') ? `[${relay.host}]` : relay.host;
  const user = relay.username !== undefined ? encodeURIComponent(relay.username) : '';
  const pass = relay.password !== undefined ? (maskPassword ? '****' : encodeURIComponent(relay.password)) : undefined;
  const auth = user || pass ? `${user}${pass !== undefined ? ':' + pass : ''}@` : '';
  return `http://${auth}${host}:${relay.port}`;
}

/** Masks the password of a relay URL string even when it does not parse. */
export function maskRelayUrl(value: string): string {
  return value.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:****@');
}

/**
 * Opens a tunnel through the relay proxy: `CONNECT target` with `Proxy-Authorization: Basic` when it has
 * credentials. Resolves with the socket once the relay answered 200; any bytes after its reply are pushed back.
 */
export function connectViaRelay(relay: RelayProxy, authority: string, timeoutMs: number, maxHeadBytes = 16384): Promise<Socket> {
  const label = `relay proxy ${relay.host}:${relay.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: relay.host, port: relay.port, allowHalfOpen: true });
    socket.setNoDelay(true);
    let settled = false;
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new UpstreamError('upstream-timeout', `${label} did not answer CONNECT ${authority} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const fail = (err: UpstreamError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', (err) => fail(classifySocketError(err, label)));
    socket.once('close', () => fail(new UpstreamError('relay-refused', `${label} closed the connection before answering CONNECT ${authority}`)));
    socket.once('connect', () => {
      let req = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
      if (relay.username !== undefined || relay.password !== undefined) {
        req += `Proxy-Authorization: Basic ${Buffer.from(`${relay.username ?? ''}:${relay.password ?? ''}`).toString('base64')}\r\n`;
      }
      socket.write(req + '\r\n');
    });
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > maxHeadBytes) fail(new UpstreamError('relay-refused', `${label} sent an oversized reply to CONNECT ${authority}`));
        return;
      }
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
      if (!m) return fail(new UpstreamError('relay-refused', `${label} sent a malformed reply to CONNECT ${authority}`));
      // Only the status code: the relay's reason phrase is untrusted text (a hostile relay could echo our credentials).
      if (m[1] !== '200') return fail(new UpstreamError('relay-refused', `${label} refused CONNECT ${authority} with status ${m[1]}`));
      settled = true;
      clearTimeout(timer);
      socket.pause();
      socket.removeListener('data', onData);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}
