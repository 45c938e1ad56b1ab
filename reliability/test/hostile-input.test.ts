import net from 'node:net';
import { createGateway } from '../../gateway/index.js';
import { CountingListener } from '../counting-listener.js';
import {
  ALLOWED_CONTROLS,
  ALLOWED_HOST,
  ALLOWED_HOSTS,
  EXPECTED_REFUSALS,
  HOSTILE_CASES,
  PROXY_PASSWORD,
  PROXY_USER,
  acceptedRefusals,
  clientHello,
  type HostileCase,
  type RefusalKindName,
} from '../hostile-cases.js';
import { exchange, waitFor, type RawExchange } from '../raw-client.js';

type Gateway = ReturnType<typeof createGateway>;

/**
 * Every upstream route of the test gateways ends at a counting listener: the allowed names are
 * host-mapped to `mapped`, and everything else would go through the relay proxy `relay`. So a
 * request that reached ANY upstream shows up in one of the two counts.
 */
const mapped = new CountingListener();
const relay = new CountingListener();
const gateways: Record<'open' | 'auth', Gateway> = {} as never;
const HEADER_TIMEOUT_MS = 400;

function baseOptions() {
  return {
    listenHost: '127.0.0.1',
    listenPort: 0,
    adminPort: null,
    allowlist: ALLOWED_HOSTS,
    hostMap: [`${ALLOWED_HOST}=127.0.0.1:${mapped.port}`, `*.blob.core.windows.net=127.0.0.1:${mapped.port}`],
    relayProxy: `http://127.0.0.1:${relay.port}`,
    headerTimeoutMs: HEADER_TIMEOUT_MS,
    maxHeadBytes: 8192,
  };
}

beforeAll(async () => {
  await mapped.start();
  await relay.start();
  gateways.open = createGateway(baseOptions());
  gateways.auth = createGateway({ ...baseOptions(), proxyAuth: `${PROXY_USER}:${PROXY_PASSWORD}` });
  await gateways.open.start();
  await gateways.auth.start();
});

afterAll(async () => {
  await gateways.open?.close();
  await gateways.auth?.close();
  await mapped.close();
  await relay.close();
});

function lastSeq(gw: Gateway): number {
  const all = gw.events.list({});
  return all.length ? all[all.length - 1].seq : 0;
}

interface Observation {
  status?: number;
  events: number[];
  deltas: { rejectionCount: number; errorCount: number; tunnelsTotal: number };
  upstreamConnections: number;
  reply: RawExchange;
}

async function observe(gw: Gateway, request: Buffer, timeoutMs = 3000): Promise<Observation> {
  const before = gw.counters.snapshot();
  const seq = lastSeq(gw);
  const upstreamBefore = mapped.count + relay.count;
  const reply = await exchange({ port: gw.proxyAddress.port, request, timeoutMs });
  // The gateway has closed the connection; let its close handlers run before reading counters.
  await waitFor(() => gw.counters.snapshot().activeClientConnections === before.activeClientConnections, 1000);
  const after = gw.counters.snapshot();
  const events = gw.events
    .list({ since: seq })
    .map((e) => e.id as number)
    .filter((id) => id !== 100 && id !== 200);
  return {
    status: reply.status,
    events,
    deltas: {
      rejectionCount: after.rejectionCount - before.rejectionCount,
      errorCount: after.errorCount - before.errorCount,
      tunnelsTotal: after.tunnelsTotal - before.tunnelsTotal,
    },
    upstreamConnections: mapped.count + relay.count - upstreamBefore,
    reply,
  };
}

/** The events seen, minus an optional leading 103 ("Got request"), must be exactly the refusal's. */
function matches(o: Observation, kind: RefusalKindName): boolean {
  const e = EXPECTED_REFUSALS[kind];
  const events = o.events[0] === 103 ? o.events.slice(1) : o.events;
  return (
    o.status === e.status &&
    JSON.stringify(events) === JSON.stringify(e.events) &&
    JSON.stringify(o.deltas) === JSON.stringify(e.counterDeltas) &&
    o.upstreamConnections === 0
  );
}

const results: Array<{ id: string; ok: boolean }> = [];

describe('hostile input: every refusal is documented, logged, counted and never reaches an upstream', () => {
  it.each(HOSTILE_CASES.map((c) => [c.id, c] as [string, HostileCase]))('%s', async (_id, c) => {
    const o = await observe(gateways[c.gateway], c.request);
    const accepted = acceptedRefusals(c);
    const ok = accepted.some((k) => matches(o, k));
    results.push({ id: c.id, ok });
    if (!ok) {
      // Show the whole observation next to what was expected, so a failure reads as a bug report.
      expect({
        case: c.description,
        status: o.status,
        events: o.events,
        counterDeltas: o.deltas,
        upstreamConnections: o.upstreamConnections,
        replyHead: o.reply.response.subarray(0, 200).toString('latin1'),
      }).toEqual({
        case: c.description,
        expectedOneOf: accepted.map((k) => ({ refusal: k, ...EXPECTED_REFUSALS[k] })),
      });
    }
    // Every refusal ends the connection: the proxy must not keep a refused client around.
    expect(o.reply.closedByPeer).toBe(true);
    expect(o.upstreamConnections).toBe(0);
    if (o.reply.status !== undefined && !o.reply.reset) {
      expect(o.reply.headers['content-length']).toMatch(/^\d+$/);
    }
  });

  it('positive controls open exactly one upstream connection each (the counting listener works)', async () => {
    for (const c of ALLOWED_CONTROLS) {
      const gw = gateways[c.gateway];
      const before = mapped.count;
      const relayBefore = relay.count;
      const got = await new Promise<string>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: gw.proxyAddress.port });
        let data = '';
        s.on('connect', () => s.write(c.request));
        s.on('data', (d: Buffer) => {
          data += d.toString('latin1');
          if (data.includes('\r\n\r\n')) {
            s.destroy();
            resolve(data.split('\r\n')[0]);
          }
        });
        s.on('error', reject);
        s.setTimeout(3000, () => s.destroy(new Error(`${c.id}: no reply within 3 s`)));
      });
      expect({ id: c.id, statusLine: got }).toEqual({ id: c.id, statusLine: 'HTTP/1.1 200 Connection established' });
      expect(await waitFor(() => mapped.count === before + 1)).toBe(true);
      expect(relay.count).toBe(relayBefore);
    }
  });
});

describe('hostile timing and connection behaviour', () => {
  it('slowloris: a head trickled byte by byte is cut off by the header timeout (408), not kept alive by the trickle', async () => {
    const gw = gateways.open;
    const seq = lastSeq(gw);
    const upstreamBefore = mapped.count + relay.count;
    const started = Date.now();
    const result = await new Promise<{ data: string; elapsed: number }>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: gw.proxyAddress.port });
      let data = '';
      // The request line and a header arrive in time; then one byte of a header value every 20 ms,
      // so the connection is never idle but the head is never complete.
      s.on('connect', () => s.write(`CONNECT ${ALLOWED_HOST}:443 HTTP/1.1\r\nHost: ${ALLOWED_HOST}:443\r\nX-Slow: `));
      const trickle = setInterval(() => {
        if (!s.destroyed) s.write('x');
      }, 20);
      s.on('data', (d: Buffer) => (data += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(trickle);
        resolve({ data, elapsed: Date.now() - started });
      });
      setTimeout(() => s.destroy(), HEADER_TIMEOUT_MS * 8).unref();
    });
    expect(result.data.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(result.elapsed).toBeLessThan(HEADER_TIMEOUT_MS * 4);
    expect(gw.events.list({ since: seq }).map((e) => e.id)).toContain(104);
    expect(mapped.count + relay.count).toBe(upstreamBefore);
  });

  it('a silent connection (connect, send nothing) is closed by the header timeout', async () => {
    const r = await exchange({ port: gateways.open.proxyAddress.port, request: Buffer.alloc(0), timeoutMs: HEADER_TIMEOUT_MS * 6 });
    expect(r.closedByPeer).toBe(true);
    expect(r.elapsedMs).toBeLessThan(HEADER_TIMEOUT_MS * 4);
    expect([undefined, 408]).toContain(r.status);
  });

  it('half-open: a client that half-closes mid-head is released promptly without an upstream connection', async () => {
    const gw = gateways.open;
    const upstreamBefore = mapped.count + relay.count;
    const r = await exchange({
      port: gw.proxyAddress.port,
      request: Buffer.from(`CONNECT ${ALLOWED_HOST}:443 HTTP/1.1\r\nHost: ${ALLOWED_HOST}`, 'latin1'),
      endAfterWrite: true,
      timeoutMs: HEADER_TIMEOUT_MS * 6,
    });
    expect(r.closedByPeer).toBe(true);
    expect(r.elapsedMs).toBeLessThan(HEADER_TIMEOUT_MS * 4);
    expect(await waitFor(() => gw.counters.snapshot().activeClientConnections === 0)).toBe(true);
    expect(mapped.count + relay.count).toBe(upstreamBefore);
  });

  it('pipelined CONNECT after CONNECT (before the 200) is never parsed as a second request', async () => {
    const gw = gateways.open;
    const seq = lastSeq(gw);
    const relayBefore = relay.count;
    const request = Buffer.from(
      `CONNECT ${ALLOWED_HOST}:443 HTTP/1.1\r\nHost: ${ALLOWED_HOST}:443\r\n\r\nCONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n`,
      'latin1',
    );
    const r = await exchange({ port: gw.proxyAddress.port, request, timeoutMs: 3000 });
    const events = gw.events.list({ since: seq });
    // Allowed outcomes: refuse the whole thing (400), or open the tunnel and treat the extra bytes
    // as tunnel data, which the TLS inspection must then reject as not TLS (402). Never: a second
    // CONNECT event, a 105 for evil.example, or any route toward evil.example.
    // At most one "Got request" (103): the second CONNECT is never logged as a request of its own.
    expect(events.filter((e) => e.id === 103).length).toBeLessThanOrEqual(1);
    // (a 402 may quote the stray bytes in its message: that is a diagnosis, not a request)
    expect(events.filter((e) => e.id === 103 || e.id === 105).some((e) => /evil\.example/.test(e.message) || /evil\.example/.test(String(e.target ?? '')))).toBe(false);
    expect(relay.count).toBe(relayBefore);
    expect(r.response.toString('latin1').match(/^HTTP\/1\.1 /gm)?.length ?? 0).toBeLessThanOrEqual(1);
    if (r.status === 200) expect(events.map((e) => e.id)).toContain(402);
    else expect(r.status).toBe(400);
    expect(r.closedByPeer).toBe(true);
  });

  it('routing follows the CONNECT target, never a conflicting Host header', async () => {
    const gw = gateways.open;
    const mappedBefore = mapped.count;
    const relayBefore = relay.count;
    const r = await exchange({
      port: gw.proxyAddress.port,
      request: Buffer.from(`CONNECT ${ALLOWED_HOST}:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n`, 'latin1'),
      timeoutMs: 800,
    });
    // Refusing (400) is fine; so is a tunnel to the CONNECT target. A route toward evil.example
    // (which, unmapped, would go through the counting relay) is not.
    expect([200, 400]).toContain(r.status);
    expect(relay.count).toBe(relayBefore);
    expect(mapped.count - mappedBefore).toBe(r.status === 200 ? 1 : 0);
  });

  it('a ClientHello pipelined before the 200 is tunnel data for the allowed host, not a request', async () => {
    const gw = gateways.open;
    const before = mapped.count;
    const hello = clientHello(ALLOWED_HOST);
    const request = Buffer.concat([Buffer.from(`CONNECT ${ALLOWED_HOST}:443 HTTP/1.1\r\nHost: ${ALLOWED_HOST}:443\r\n\r\n`, 'latin1'), hello]);
    const r = await exchange({ port: gw.proxyAddress.port, request, timeoutMs: 800 });
    // The head ends at the blank line: what follows is the client's first tunnel bytes, forwarded as they are.
    expect(r.status).toBe(200);
    expect(await waitFor(() => mapped.count === before + 1)).toBe(true);
    const upstream = mapped.connections[mapped.connections.length - 1];
    expect(await waitFor(() => upstream.firstBytes.length >= hello.length)).toBe(true);
    expect(upstream.firstBytes.subarray(0, hello.length).equals(hello)).toBe(true);
  });
});

afterAll(() => {
  const failed = results.filter((r) => !r.ok).map((r) => r.id);
  process.stdout.write(`hostile input: ${results.length} cases tried, ${results.length - failed.length} refused as documented${failed.length ? `; failed: ${failed.join(', ')}` : ''}\n`);
});
