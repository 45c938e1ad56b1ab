import type { Duplex } from 'node:stream';
import { KindError, errorKind } from './stats.js';

export interface Http1Response {
  status: number;
  bodyBytes: number;
}

/**
 * A minimal HTTP/1.1 keep-alive client on one socket, one request in flight at a time.
 * Hand-written because the driver must cost far less CPU than the proxy it measures;
 * it understands Content-Length and (without trailers) chunked bodies, which is all the
 * bench upstream and the fake cloud send.
 */
export class Http1Connection {
  private pending?: { resolve: (r: Http1Response) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout };
  private head: Buffer | null = null;
  private status = 0;
  private remaining = -1; // body bytes still expected; -2 = chunked
  private bodyBytes = 0;
  private chunkTail = '';
  private closedError: KindError | null = null;

  constructor(private readonly socket: Duplex, private readonly timeoutMs = 10_000) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new KindError(errorKind(err), err.message)));
    socket.on('close', () => this.fail(new KindError('closed', 'connection closed before the response ended')));
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  request(raw: Buffer): Promise<Http1Response> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending) return Promise.reject(new Error('Http1Connection: one request at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new KindError('timeout', `no complete response within ${this.timeoutMs} ms`));
        this.socket.destroy();
      }, this.timeoutMs);
      this.pending = { resolve, reject, timer };
      this.socket.write(raw);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private fail(err: KindError): void {
    if (!this.closedError) this.closedError = err;
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(err);
  }

  private onData(chunk: Buffer): void {
    while (chunk.length > 0) {
      if (this.remaining === -1) {
        this.head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
        const end = this.head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headerText = this.head.subarray(0, end).toString('latin1');
        chunk = this.head.subarray(end + 4);
        this.head = null;
        this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headerText)?.[1] ?? 0);
        this.bodyBytes = 0;
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(headerText);
        if (cl) this.remaining = Number(cl[1]);
        else if (/\r\ntransfer-encoding:\s*chunked/i.test(headerText)) {
          this.remaining = -2;
          this.chunkTail = '';
        } else this.remaining = 0;
        if (this.remaining === 0) this.complete();
        continue;
      }
      if (this.remaining === -2) {
        // Chunked: count bytes and watch for the terminating zero-length chunk.
        this.bodyBytes += chunk.length;
        const tail = this.chunkTail + chunk.subarray(Math.max(0, chunk.length - 16)).toString('latin1');
        this.chunkTail = tail.slice(-16);
        if (/(^|\r\n)0\r\n\r\n$/.test(this.chunkTail)) this.complete();
        return;
      }
      const take = Math.min(this.remaining, chunk.length);
      this.bodyBytes += take;
      this.remaining -= take;
      chunk = chunk.subarray(take);
      if (this.remaining === 0) this.complete();
    }
  }

  private complete(): void {
    this.remaining = -1;
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    clearTimeout(p.timer);
    p.resolve({ status: this.status, bodyBytes: this.bodyBytes });
  }
}

/** Builds one request's bytes once, reused for every request on every connection. */
export function buildRequest(opts: { method: string; host: string; path: string; bodyBytes: number; headers?: Record<string, string> }): Buffer {
  let head = `${opts.method} ${opts.path} HTTP/1.1\r\nHost: ${opts.host}\r\n`;
  if (opts.bodyBytes > 0) head += `Content-Type: application/octet-stream\r\nContent-Length: ${opts.bodyBytes}\r\n`;
  for (const [k, v] of Object.entries(opts.headers ?? {})) head += `${k}: ${v}\r\n`;
  head += '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(opts.bodyBytes, 'x')]);
}
