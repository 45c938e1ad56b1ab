import tls from 'node:tls';
import type { AddressInfo } from 'node:net';

export interface BenchUpstreamOptions {
  cert: string;
  key: string;
  /** Ask the client for a certificate (so a TLS 1.2 client sends its Certificate message in clear). */
  requestCert?: boolean;
  host?: string;
  port?: number;
}

const SMALL = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok', 'latin1');
const BULK_CHUNK = Buffer.alloc(64 * 1024, 'b');
const MAX_BULK = 1024 * 1024 * 1024;

/**
 * The benchmark's upstream: TLS 1.2 HTTP/1.1 keep-alive that answers every request with a tiny
 * 200, or `GET /bulk?bytes=N` with N bytes. Hand-written framing so the upstream is never
 * the bottleneck being measured (it runs in its own process).
 */
export class BenchUpstream {
  private readonly server: tls.Server;
  private readonly sockets = new Set<tls.TLSSocket>();
  requests = 0;

  constructor(private readonly opts: BenchUpstreamOptions) {
    this.server = tls.createServer(
      {
        cert: opts.cert,
        key: opts.key,
        requestCert: opts.requestCert ?? true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (socket) => this.serve(socket),
    );
    this.server.on('tlsClientError', () => undefined);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port ?? 0, backlog: 4096 }, () => resolve());
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let head: Buffer | null = null;
    let bodyLeft = 0;
    let writing = false;
    const queue: Array<Buffer | number> = []; // a number = a bulk response of that many bytes
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const onData = (chunk: Buffer): void => {
      while (chunk.length) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, chunk.length);
          bodyLeft -= take;
          chunk = chunk.subarray(take);
          continue;
        }
        head = head ? Buffer.concat([head, chunk]) : chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 65536) socket.destroy();
          return;
        }
        const text = head.subarray(0, end).toString('latin1');
        chunk = head.subarray(end + 4);
        head = null;
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(text);
        bodyLeft = cl ? Number(cl[1]) : 0;
        this.requests++;
        const bulk = /^GET \/bulk\?bytes=(\d+) /.exec(text);
        if (bulk) queue.push(Math.min(Number(bulk[1]), MAX_BULK));
        else queue.push(SMALL);
      }
      pump();
    };
    // Responses go out in order; a bulk response streams with backpressure.
    const pump = (): void => {
      if (writing) return;
      while (queue.length) {
        const next = queue.shift()!;
        if (typeof next === 'number') {
          writing = true;
          let left = next;
          socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${left}\r\n\r\n`);
          const more = (): void => {
            while (left > 0) {
              const piece = left >= BULK_CHUNK.length ? BULK_CHUNK : BULK_CHUNK.subarray(0, left);
              left -= piece.length;
              if (!socket.write(piece) && left > 0) {
                socket.once('drain', more);
                return;
              }
            }
            writing = false;
            pump();
          };
          more();
          return;
        }
        socket.write(next);
      }
    };
    socket.on('data', onData);
  }
}
