import net from 'node:net';

/** What came back on a raw connection to the proxy port. */
export interface RawExchange {
  /** Everything received until the peer closed (or the deadline). */
  response: Buffer;
  /** Status code of the first status line, or undefined when none arrived. */
  status?: number;
  headers: Record<string, string>;
  /** The peer closed the connection (FIN or reset) before the deadline. */
  closedByPeer: boolean;
  reset: boolean;
  /** Milliseconds from the first write to the close (or deadline). */
  elapsedMs: number;
  localPort: number;
}

/** Parses the status line and headers of an HTTP/1.x response head. */
export function parseResponseHead(buf: Buffer): { status?: number; headers: Record<string, string> } {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine ?? '');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: m ? Number(m[1]) : undefined, headers };
}

export interface RawOptions {
  host?: string;
  port: number;
  /** Bytes written at once after connecting (may be empty). */
  request: Buffer;
  /** Give up waiting for the peer to close after this long. */
  timeoutMs?: number;
  /** Half-close our side after writing. */
  endAfterWrite?: boolean;
  localAddress?: string;
}

/** Writes `request` and reads until the proxy closes the connection (or the deadline). */
export function exchange(o: RawOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let reset = false;
    let localPort = 0;
    const socket = net.connect({ host: o.host ?? '127.0.0.1', port: o.port, localAddress: o.localAddress });
    const finish = (closedByPeer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const response = Buffer.concat(chunks);
      resolve({ response, ...parseResponseHead(response), closedByPeer, reset, elapsedMs: Date.now() - started, localPort });
    };
    const timer = setTimeout(() => finish(false), o.timeoutMs ?? 3000);
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0;
      // A refusal may close the connection while a large request is still being written.
      socket.write(o.request, () => undefined);
      if (o.endAfterWrite) socket.end();
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => finish(true));
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 2000, everyMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
