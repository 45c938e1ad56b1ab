import * as net from 'node:net';
import { ManualClock } from '../../lib/clock.js';
import { createGateway, type Gateway } from '../index.js';
import { closed, connectRequest, rawRequest, readBytes } from './support.js';

const HOST = 'idle.example.test';
const IDLE_MS = 1000;

/** An upstream that keeps the sockets it accepted, in order, so the test can send from the upstream side. */
class HoldingUpstream {
  readonly accepted: net.Socket[] = [];
  private waiters: Array<() => void> = [];
  private readonly server = net.createServer((s) => {
    s.on('error', () => undefined);
    this.accepted.push(s);
    this.waiters.splice(0).forEach((w) => w());
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  async nth(i: number): Promise<net.Socket> {
    while (this.accepted.length <= i) await new Promise<void>((r) => this.waiters.push(r));
    return this.accepted[i];
  }
  close(): Promise<void> {
    this.accepted.forEach((s) => s.destroy());
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Not before the timeout, and within 1.2 timeouts: gateway/test/idle-sweep.test.ts. */
describe('idle tunnels (the sweep on an injected clock, real sockets)', () => {
  const upstream = new HoldingUpstream();
  let clock: ManualClock;
  let gw: Gateway;

  beforeAll(async () => {
    await upstream.start();
    clock = new ManualClock();
    gw = createGateway({ listenPort: 0, adminPort: null, allowlist: [HOST], hostMap: [`${HOST}=127.0.0.1:${upstream.port}`], tlsInspection: false, idleTimeoutMs: IDLE_MS, socketClock: clock });
    await gw.start();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream.close();
  });

  async function open(i: number): Promise<{ client: net.Socket; server: net.Socket }> {
    const r = await rawRequest(gw.proxyAddress.port, connectRequest(`${HOST}:443`));
    expect(r.status).toBe(200);
    r.socket.on('error', () => undefined);
    return { client: r.socket, server: await upstream.nth(i) };
  }

  it('traffic either way keeps a tunnel open; a silent one is closed; the sweep stops with the last tunnel', async () => {
    const toUpstream = await open(0); // only the client sends
    const toClient = await open(1); // only the upstream sends
    const silent = await open(2);
    const silentClosed = closed(silent.client, 30_000);

    // Three timeouts' worth of clock, with traffic every half timeout on the two busy tunnels.
    for (let t = 0; t < 6; t++) {
      await clock.advance(IDLE_MS / 2);
      toUpstream.client.write('c');
      expect((await readBytes(toUpstream.server, 1)).toString()).toBe('c');
      toClient.server.write('u');
      expect((await readBytes(toClient.client, 1)).toString()).toBe('u');
    }
    await silentClosed; // the positive control: the sweep does close tunnels on this clock
    expect(toUpstream.client.destroyed).toBe(false);
    expect(toClient.client.destroyed).toBe(false);
    expect(gw.counters.snapshot().tunnelsActive).toBe(2);

    // Silence from now on: both go within 1.2 timeouts (plus the sweep that saw the last traffic).
    const bothClosed = Promise.all([closed(toUpstream.client, 30_000), closed(toClient.client, 30_000), closed(toUpstream.server, 30_000), closed(toClient.server, 30_000)]);
    await clock.advance(IDLE_MS * 1.3);
    await bothClosed;
    for (let i = 0; i < 50 && gw.counters.snapshot().tunnelsActive > 0; i++) await new Promise((r) => setImmediate(r));
    expect(gw.counters.snapshot().tunnelsActive).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
