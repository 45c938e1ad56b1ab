import net from 'node:net';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { CountingListener } from '../counting-listener.js';
import { exchange, waitFor } from '../raw-client.js';

const HOST = 'abc123.oms.opinsights.azure.com';

function connectRequest(target: string): Buffer {
  return Buffer.from(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`, 'latin1');
}

/** Opens a CONNECT tunnel and resolves with the socket once the 200 arrived (or rejects with the status line). */
function openTunnel(port: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.removeListener('data', onData);
      s.pause(); // no data may flow (and be lost) before the caller attaches its own reader
      const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!line.startsWith('HTTP/1.1 200')) {
        s.destroy();
        reject(new Error(line));
        return;
      }
      const rest = head.subarray(end + 4);
      if (rest.length) s.unshift(rest);
      resolve(s);
    };
    s.on('data', onData);
    s.once('error', reject);
    s.on('connect', () => s.write(connectRequest(target)));
  });
}

describe('slow reader: the gateway applies backpressure instead of buffering the upstream', () => {
  const TOTAL = 32 * 1024 * 1024;
  const CHUNK = Buffer.alloc(64 * 1024, 0x61);
  let flushed = 0;
  let upstreamDone = false;
  // The upstream writes TOTAL bytes as fast as the gateway takes them; `flushed` counts bytes the
  // kernel accepted (write callbacks), so it stalls when the gateway stops reading.
  const upstream = new CountingListener((socket) => {
    let sent = 0;
    const pump = () => {
      while (sent < TOTAL) {
        sent += CHUNK.length;
        const ok = socket.write(CHUNK, (err) => {
          if (!err) flushed += CHUNK.length;
        });
        if (!ok) return void socket.once('drain', pump);
      }
      upstreamDone = true;
      socket.end();
    };
    pump();
  });
  let gw: Gateway;

  beforeAll(async () => {
    await upstream.start();
    // Plain pipe (no TLS inspection): the upstream here speaks raw bytes, and the pipe after a
    // verified handshake is the same code path.
    gw = createGateway({ listenPort: 0, adminPort: null, allowlist: [HOST], hostMap: [`${HOST}=127.0.0.1:${upstream.port}`], tlsInspection: false });
    await gw.start();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream.close();
  });

  it('stalls the upstream while the client does not read, then delivers every byte once it does', async () => {
    const client = await openTunnel(gw.proxyAddress.port, `${HOST}:443`);
    client.pause();
    // Let the pipeline fill: the count must stop growing well short of the total.
    let last = -1;
    for (let i = 0; i < 40 && flushed !== last; i++) {
      last = flushed;
      await new Promise((r) => setTimeout(r, 100));
    }
    const stalledAt = flushed;
    await new Promise((r) => setTimeout(r, 300));
    expect(flushed).toBe(stalledAt);
    expect(upstreamDone).toBe(false);
    // Socket buffers on loopback can hold a few MB each way; an unbounded gateway would take all 32 MB.
    expect(stalledAt).toBeLessThan(TOTAL / 2);
    let received = 0;
    client.on('data', (d: Buffer) => (received += d.length));
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    client.resume();
    await closed;
    expect(received).toBe(TOTAL);
    expect(upstreamDone).toBe(true);
    process.stdout.write(`slow reader: upstream stalled after ${(stalledAt / 1048576).toFixed(1)} MB of ${TOTAL / 1048576} MB; all delivered after resume\n`);
  });
});

describe('connection flood above maxConnections', () => {
  const LIMIT = 20;
  const FLOOD = 200;
  let upstream: CountingListener;
  let gw: Gateway;

  beforeAll(async () => {
    upstream = new CountingListener();
    await upstream.start();
    gw = createGateway({ listenPort: 0, adminPort: null, allowlist: [HOST], hostMap: [`${HOST}=127.0.0.1:${upstream.port}`], maxConnections: LIMIT, headerTimeoutMs: 5000 });
    await gw.start();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream.close();
  });

  it('refuses connections over the limit with 503 (event 400, Error Count), stays bounded, and recovers', async () => {
    const holders: net.Socket[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const s = net.connect({ host: '127.0.0.1', port: gw.proxyAddress.port });
      s.on('error', () => undefined);
      await new Promise<void>((r) => s.once('connect', () => r()));
      holders.push(s);
    }
    expect(await waitFor(() => gw.counters.snapshot().activeClientConnections === LIMIT)).toBe(true);
    const before = gw.counters.snapshot();
    const seq = gw.events.list({}).at(-1)?.seq ?? 0;
    const rssBefore = process.memoryUsage().rss;
    let maxActive = 0;
    const watcher = setInterval(() => (maxActive = Math.max(maxActive, gw.counters.snapshot().activeClientConnections)), 5);
    const replies = await Promise.all(Array.from({ length: FLOOD }, () => exchange({ port: gw.proxyAddress.port, request: connectRequest(`${HOST}:443`), timeoutMs: 4000 })));
    clearInterval(watcher);
    const statuses = new Map<string, number>();
    for (const r of replies) statuses.set(String(r.status), (statuses.get(String(r.status)) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ '503': FLOOD });
    expect(replies.every((r) => r.closedByPeer)).toBe(true);
    const after = gw.counters.snapshot();
    expect(after.errorCount - before.errorCount).toBe(FLOOD);
    expect(after.tunnelsTotal - before.tunnelsTotal).toBe(0);
    expect(gw.events.list({ since: seq }).filter((e) => e.id === 400)).toHaveLength(FLOOD);
    expect(maxActive).toBeLessThanOrEqual(LIMIT);
    expect(upstream.count).toBe(0);
    // Refused sockets are released, not kept: the process grew by less than 64 MB for 200 refusals.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);

    for (const s of holders) s.destroy();
    expect(await waitFor(() => gw.counters.snapshot().activeClientConnections === 0)).toBe(true);
    const tunnel = await openTunnel(gw.proxyAddress.port, `${HOST}:443`);
    tunnel.destroy();
    expect(await waitFor(() => upstream.count === 1)).toBe(true);
  });
});

describe('resolution to private or loopback addresses', () => {
  let target: CountingListener;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    target = new CountingListener();
    await target.start();
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await target.close();
  });

  async function gatewayWith(extra: Record<string, unknown>): Promise<Gateway> {
    // The listener's port is allowed so that only the address rule can stop the connection.
    const g = createGateway({ listenPort: 0, adminPort: null, allowlist: ['localhost', '127.0.0.1', 'loopback.test'], allowedPorts: [443, target.port], ...extra });
    await g.start();
    gateways.push(g);
    return g;
  }

  it('refuses an allowed name that resolves to loopback, and an allowed loopback literal (403, 105, Rejection Count)', async () => {
    const g = await gatewayWith({});
    for (const t of [`localhost:${target.port}`, `127.0.0.1:${target.port}`]) {
      const before = g.counters.snapshot();
      const seq = g.events.list({}).at(-1)?.seq ?? 0;
      const r = await exchange({ port: g.proxyAddress.port, request: connectRequest(t) });
      expect({ target: t, status: r.status }).toEqual({ target: t, status: 403 });
      const ids = g.events.list({ since: seq }).map((e) => e.id);
      expect(ids).toEqual([103, 105]);
      expect(g.counters.snapshot().rejectionCount - before.rejectionCount).toBe(1);
    }
    expect(target.count).toBe(0);
  });

  it('lets the same names through when explicitly host-mapped, or with allowPrivateUpstream', async () => {
    const mappedGw = await gatewayWith({ hostMap: [`loopback.test=127.0.0.1:${target.port}`] });
    const t1 = await openTunnel(mappedGw.proxyAddress.port, `loopback.test:443`);
    t1.destroy();
    expect(await waitFor(() => target.count === 1)).toBe(true);
    const optIn = await gatewayWith({ allowPrivateUpstream: true });
    const t2 = await openTunnel(optIn.proxyAddress.port, `localhost:${target.port}`);
    t2.destroy();
    expect(await waitFor(() => target.count === 2)).toBe(true);
  });
});

describe('half-open and idle tunnels', () => {
  // The upstream answers "pong" once the client has finished sending (its FIN arrived), then ends.
  const upstream = new CountingListener((socket) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('end', () => socket.end(`pong after ${got}`));
  });
  let gw: Gateway;

  beforeAll(async () => {
    await upstream.start();
    gw = createGateway({ listenPort: 0, adminPort: null, allowlist: [HOST], hostMap: [`${HOST}=127.0.0.1:${upstream.port}`], tlsInspection: false, idleTimeoutMs: 300 });
    await gw.start();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream.close();
  });

  it('a client half-close is passed upstream, the answer still comes back, and both sides are freed', async () => {
    const client = await openTunnel(gw.proxyAddress.port, `${HOST}:443`);
    let answer = '';
    client.setEncoding('latin1');
    client.on('data', (d: string) => (answer += d));
    client.resume();
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    client.end('ping');
    await closed;
    expect(answer).toBe('pong after ping');
    expect(await waitFor(() => gw.counters.snapshot().activeClientConnections === 0 && gw.counters.snapshot().tunnelsActive === 0)).toBe(true);
    expect(await waitFor(() => upstream.open === 0)).toBe(true);
  });

  it('a tunnel nobody uses is closed after the idle timeout, upstream side included', async () => {
    const client = await openTunnel(gw.proxyAddress.port, `${HOST}:443`);
    client.resume();
    const started = Date.now();
    await new Promise<void>((r) => client.once('close', () => r()));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    expect(await waitFor(() => gw.counters.snapshot().tunnelsActive === 0 && upstream.open === 0)).toBe(true);
  });
});
