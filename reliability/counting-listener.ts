import net from 'node:net';

/**
 * A TCP listener on loopback that stands in for every upstream and counts each connection made
 * to it, so a test can prove that a refused request never reached any upstream.
 */
export class CountingListener {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Every connection accepted so far, with the first bytes it sent. */
  readonly connections: Array<{ remotePort: number; firstBytes: Buffer }> = [];
  port = 0;

  constructor(
    private readonly onConnection?: (socket: net.Socket) => void,
    private readonly host = '127.0.0.1',
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((socket) => {
      const record = { remotePort: socket.remotePort ?? 0, firstBytes: Buffer.alloc(0) };
      this.connections.push(record);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => {
        if (record.firstBytes.length < 4096) record.firstBytes = Buffer.concat([record.firstBytes, d]).subarray(0, 4096);
      });
      if (this.onConnection) this.onConnection(socket);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
  }

  get count(): number {
    return this.connections.length;
  }

  /** Currently open connections. */
  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
