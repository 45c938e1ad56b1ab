import type { Socket } from 'node:net';

export interface RequestHead {
  method: string;
  target: string;
  version: string;
  /** [name as sent, value] in order. */
  headers: Array<[string, string]>;
  /** Bytes the client sent after the blank line (e.g. an eager TLS ClientHello). */
  rest: Buffer;
}

export type HeadFailure =
  | { kind: 'malformed'; reason: string }
  | { kind: 'head-too-large'; reason: string }
  | { kind: 'header-timeout'; reason: string }
  | { kind: 'closed'; reason: string };

export type HeadResult = { ok: true; head: RequestHead } | { ok: false; failure: HeadFailure };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers that must not repeat: two of them means two parsers could disagree on the request (smuggling). */
const SINGLETONS = new Set(['host', 'content-length', 'transfer-encoding', 'proxy-authorization']);
const END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Reads the request line and headers from a fresh client socket, within `maxBytes` and
 * `timeoutMs`. On success the socket is paused, with nothing lost: bytes after the head are in `rest`.
 */
export function readRequestHead(socket: Socket, maxBytes: number, timeoutMs: number): Promise<HeadResult> {
  return new Promise((resolve) => {
    let buffered: Buffer | undefined;
    let done = false;
    const finish = (result: HeadResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.pause();
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      const searchFrom = buffered ? Math.max(0, buffered.length - 3) : 0;
      buffered = buffered ? Buffer.concat([buffered, chunk]) : chunk;
      const end = buffered.indexOf(END, searchFrom);
      if (end < 0) {
        if (buffered.length > maxBytes) finish({ ok: false, failure: { kind: 'head-too-large', reason: `request head exceeds ${maxBytes} bytes` } });
        return;
      }
      if (end + 4 > maxBytes) {
        finish({ ok: false, failure: { kind: 'head-too-large', reason: `request head exceeds ${maxBytes} bytes` } });
        return;
      }
      const parsed = parseHead(buffered.subarray(0, end).toString('latin1'));
      if (typeof parsed === 'string') finish({ ok: false, failure: { kind: 'malformed', reason: parsed } });
      else finish({ ok: true, head: { ...parsed, rest: buffered.subarray(end + 4) } });
    };
    const onEnd = (): void => finish({ ok: false, failure: { kind: 'closed', reason: 'client closed the connection before a complete request' } });
    const timer = setTimeout(() => finish({ ok: false, failure: { kind: 'header-timeout', reason: `no complete request head within ${timeoutMs} ms` } }), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** Parses `METHOD target HTTP/1.x` and the header lines; returns a reason string when malformed. */
export function parseHead(text: string): Omit<RequestHead, 'rest'> | string {
  const lines = text.split('\r\n');
  const requestLine = lines[0];
  const parts = requestLine.split(' ');
  if (parts.length !== 3) return `malformed request line ${JSON.stringify(requestLine.slice(0, 200))} (expected METHOD target HTTP/1.1)`;
  const [method, target, version] = parts;
  if (!TOKEN.test(method)) return `malformed method ${JSON.stringify(method.slice(0, 50))}`;
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return `unsupported protocol version ${JSON.stringify(version.slice(0, 50))} (expected HTTP/1.1 or HTTP/1.0)`;
  if (target.length === 0) return 'empty request target';
  const headers: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith(' ') || line.startsWith('\t')) return 'obsolete header line folding is not accepted';
    const colon = line.indexOf(':');
    if (colon <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 100))}`;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return `malformed header name ${JSON.stringify(name.slice(0, 100))}`;
    const value = line.slice(colon + 1).trim();
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return `control characters in header ${name}`;
    const lower = name.toLowerCase();
    if (SINGLETONS.has(lower) && headers.some(([k]) => k.toLowerCase() === lower)) return `more than one ${name} header`;
    headers.push([name, value]);
  }
  return { method, target, version, headers };
}

export function headerValue(headers: Array<[string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}
