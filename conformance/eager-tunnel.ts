import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Reply } from './wire.js';

/**
 * Carries a TLS client over a CONNECT tunnel whose head goes out in the same write as the first TLS
 * bytes (the ClientHello): what an eager client does, and what a gateway must not lose. The proxy's
 * response head is taken off the incoming bytes before the TLS client sees them.
 */
export class EagerTunnel extends Duplex {
  readonly reply: Promise<Reply>;
  private resolveReply!: (r: Reply) => void;
  private head: Buffer | undefined;
  private inbound = Buffer.alloc(0);
  private replied = false;

  constructor(private readonly socket: Socket, head: string) {
    super({ allowHalfOpen: true });
    this.head = Buffer.from(head, 'latin1');
    this.reply = new Promise((resolve) => (this.resolveReply = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.settle(null, '(connection closed without an answer)');
      this.push(null);
    });
    socket.on('close', () => {
      this.settle(null, '(connection closed without an answer)');
      this.destroy();
    });
    socket.on('error', () => undefined);
  }

  private settle(status: number | null, statusLine: string, headers: Record<string, string> = {}): void {
    if (this.replied) return;
    this.replied = true;
    this.resolveReply({ status, statusLine, headers, rest: Buffer.alloc(0), closed: status === null });
  }

  private onData(chunk: Buffer): void {
    if (this.replied) {
      this.push(chunk);
      return;
    }
    this.inbound = Buffer.concat([this.inbound, chunk]);
    const end = this.inbound.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = this.inbound.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const rest = this.inbound.subarray(end + 4);
    this.settle(m ? Number(m[1]) : null, lines[0] ?? '', headers);
    if (m && Number(m[1]) >= 200 && Number(m[1]) < 300) {
      if (rest.length) this.push(rest);
    } else this.socket.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const data = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    this.head = undefined;
    this.socket.write(data, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }

  override _read(): void {}

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
