import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * The naive Node CONNECT proxy (`net.connect` + `pipe()` both ways, no checks): the floor any
 * Node proxy should beat, and the in-test proxy for the driver's tests. Every CONNECT goes to
 * `upstream` whatever host it names (a host map with one entry); `refuse` answers 403 to hosts it lists.
 */
export class NaiveConnectProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  connects = 0;

  constructor(private readonly upstream: { host: string; port: number }, private readonly refuse: string[] = []) {
    this.server = net.createServer((client) => this.handle(client));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  start(port = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => resolve());
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private handle(client: net.Socket): void {
    this.track(client);
    client.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 16384) client.destroy();
        return;
      }
      client.removeListener('data', onData);
      client.pause();
      const m = /^CONNECT ([^\s:]+):(\d+) HTTP\/1\.[01]\r\n/.exec(buf.subarray(0, end + 2).toString('latin1'));
      if (!m) {
        client.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (this.refuse.includes(m[1].toLowerCase())) {
        client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.connects++;
      const upstream = net.connect({ host: this.upstream.host, port: this.upstream.port, noDelay: true });
      this.track(upstream);
      upstream.once('connect', () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        const rest = buf.subarray(end + 4);
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.once('error', () => {
        if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      });
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
    };
    client.on('data', onData);
  }
}
