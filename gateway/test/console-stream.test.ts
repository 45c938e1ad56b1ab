/**
 * The console's server side: the event stream to a slow reader stays bounded (drop-oldest, then a
 * visible gap event), the page and its libraries are served with a strict policy, and the management
 * API refuses a token in a URL and changes from another origin.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listen } from '../../lib/listen.js';
import { EventLog, type GatewayEvent } from '../events/event-log.js';
import { BoundedEventStream } from '../console/event-stream.js';
import { createGateway, type Gateway } from '../index.js';
import { eventually, tempDir } from './support.js';

interface SseFrame {
  event?: string;
  id?: string;
  data: string;
}

function parseSse(text: string): SseFrame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const frame: SseFrame = { data: '' };
      for (const line of block.split('\n')) {
        const i = line.indexOf(': ');
        const [k, v] = i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 2)];
        if (k === 'event') frame.event = v;
        else if (k === 'id') frame.id = v;
        else if (k === 'data') frame.data += v;
      }
      return frame;
    });
}

/** A reader that connects, sends the request, and reads nothing until told to. */
async function slowReader(port: number, path: string, host = '127.0.0.1'): Promise<{ socket: net.Socket; readAll(untilText: string): Promise<string> }> {
  const socket = net.connect({ port, host });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  return {
    socket,
    readAll(untilText: string) {
      return new Promise((resolve, reject) => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes(untilText)) resolve(text);
        });
        socket.once('error', reject);
        socket.once('close', () => reject(new Error(`stream closed before ${JSON.stringify(untilText)}; got ${text.length} chars`)));
        socket.resume();
      });
    },
  };
}

describe('BoundedEventStream', () => {
  let server: Server;
  let current: { res: ServerResponse; stream: BoundedEventStream } | undefined;
  const CAP = 50;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      current = { res, stream: new BoundedEventStream(res, CAP) };
    });
    await listen(server, '127.0.0.1', 0);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('a reader that stops reading costs at most the ring plus the socket buffer; it then sees a gap and the newest events', async () => {
    const port = (server.address() as net.AddressInfo).port;
    const reader = await slowReader(port, '/');
    const { res, stream } = await eventually(() => current, 'the server has the stream');
    const log = new EventLog({ capacity: 10 });
    const big = 'x'.repeat(4096);
    const pushed: GatewayEvent[] = [];
    const push = (): void => {
      const e = log.log(100, big);
      pushed.push(e);
      stream.push(e);
    };
    // Until the socket pushes back (kernel buffers full), events go straight out.
    while (stream.stats().queued === 0) {
      push();
      if (pushed.length > 100_000) throw new Error('the socket never pushed back');
    }
    // The last push was the first to wait; everything before it was written.
    const written = pushed.length - 1;
    for (let i = 0; i < CAP * 20; i++) push();

    const stats = stream.stats();
    expect(stats.queued).toBe(CAP);
    expect(stats.dropped).toBe(CAP * 20 + 1 - CAP);
    // Node's own buffer holds what was written before the push-back: one high-water mark plus one frame.
    expect(stats.writableLength).toBeLessThan(res.writableHighWaterMark + 2 * (big.length + 200));

    const lastSeq = pushed[pushed.length - 1].seq;
    const text = await reader.readAll(`id: ${lastSeq}\n`);
    reader.socket.destroy();
    const frames = parseSse(text.slice(text.indexOf('\r\n\r\n') + 4).replace(/\r\n[0-9a-f]+\r\n/g, ''));
    const gapAt = frames.findIndex((f) => f.event === 'gap');
    expect(gapAt).toBeGreaterThan(0);
    const gap = JSON.parse(frames[gapAt].data);
    expect(gap).toMatchObject({ dropped: stats.dropped, firstSeq: pushed[written].seq, lastSeq: pushed[written + stats.dropped - 1].seq });
    expect(gap.reason).toMatch(/fell behind/);
    const before = frames.slice(0, gapAt).map((f) => Number(f.id));
    const after = frames.slice(gapAt + 1).map((f) => Number(f.id));
    expect(before).toEqual(pushed.slice(0, written).map((e) => e.seq));
    expect(after).toEqual(pushed.slice(pushed.length - CAP).map((e) => e.seq));
  });
});

describe('the console on a gateway', () => {
  let work: ReturnType<typeof tempDir>;
  let gw: Gateway;
  let base: string;
  beforeAll(async () => {
    work = tempDir();
    const allowlistFile = join(work.dir, 'allowedlist_server.txt');
    writeFileSync(allowlistFile, 'a.example.test\n');
    gw = createGateway({ listenPort: 0, adminPort: 0, allowlistFile, tlsInspection: false });
    await gw.start();
    base = `http://127.0.0.1:${gw.adminAddress!.port}`;
  });
  afterAll(async () => {
    await gw.close();
    work.cleanup();
  });

  test('the page, its scripts and its libraries come from the package with a strict content policy', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'; script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    for (const src of [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1])) {
      const r = await fetch(base + src);
      expect({ src, status: r.status }).toEqual({ src, status: 200 });
    }
    for (const lib of ['preact.mjs', 'preact-hooks.mjs', 'htm.mjs', 'uplot.mjs']) {
      const r = await fetch(`${base}/console/lib/${lib}`);
      expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await r.text()).length).toBeGreaterThan(1000);
    }
    for (const bad of ['/console/lib/constructor', '/console/lib/..%2Fpackage.json', '/console/..%2F..%2Fpackage.json', '/console/index.ts']) {
      const r = await fetch(base + bad);
      expect({ bad, status: r.status }).toEqual({ bad, status: 404 });
    }
  });

  test('a token in a URL is refused, and so is a change from another origin', async () => {
    const inUrl: Response = await fetch(`${base}/api/counters?token=secret-123`);
    expect(inUrl.status).toBe(400);
    expect(((await inUrl.json()) as { error: string }).error).toMatch(/do not put the admin token in a URL .*Authorization: Bearer/);
    const foreign: Response = await fetch(`${base}/api/allowlist/hosts`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body: '{"host":"evil.example"}' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: string }).error).toMatch(/only accepted from the console's own origin/);
    // The same change from the console's own origin goes through (the refusal is about the origin).
    const own = await fetch(`${base}/api/allowlist/hosts`, { method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: '{"host":"b.example.test"}' });
    expect(own.status).toBe(200);
    expect(gw.events.list().some((e) => e.id === 100 && e.message.includes('b.example.test'))).toBe(true);
    expect((await fetch(`${base}/console/session`).then((r) => r.json())) as unknown).toEqual({ tokenRequired: false });
  });

  test('a reader that stops reading the gateway stream gets a gap event, and the gateway keeps answering', async () => {
    const port = gw.adminAddress!.port;
    const reader = await slowReader(port, `/api/events/stream?since=${gw.events.lastSeq}`);
    await eventually(() => gw.events.listenerCount('event') >= 2, 'the stream is subscribed');
    const big = 'y'.repeat(8192);
    let last = 0;
    for (let i = 0; i < 5000; i++) last = gw.events.log(100, `flood ${i} ${big}`).seq;
    const counters = await fetch(`http://127.0.0.1:${port}/api/counters`);
    expect(counters.status).toBe(200);
    const text = await reader.readAll(`id: ${last}\n`);
    reader.socket.destroy();
    const gap = /event: gap\ndata: (.*)\n/.exec(text);
    expect(gap).not.toBeNull();
    expect(JSON.parse(gap![1]).dropped).toBeGreaterThan(0);
  });
});
