import { setImmediate } from 'node:timers/promises';
import { InputError } from '../lib/errors.js';
import { AdminClient, addTally, formatTally, sameTally, type AdminCounters } from './admin.js';
import { CASES, SECTIONS } from './catalogue/index.js';
import { connectHead, echoes, fail, is2xx, notObservable, pass, send, withPolicy } from './checks.js';
import { ALLOWED_HOST, BARRIER_HOST } from './hosts.js';
import { omsHostOf } from './route.js';
import type { CaseContext, CaseDef, CaseResult, EventTally, SuiteOptions, SuiteReport, Verdict } from './types.js';
import { markOf, seenSince } from './upstreams.js';
import { sourceNet, type UpstreamSet } from './upstream-set.js';
import { openSocket, readReply, tlsInTunnel } from './wire.js';

const ROUTE_TIMEOUT_MS = 5000;

export interface RunHooks {
  onResult?(result: CaseResult): void;
  onSection?(title: string): void;
}

function authLine(proxyAuth?: string): string {
  return proxyAuth ? `Proxy-Authorization: Basic ${Buffer.from(proxyAuth).toString('base64')}\r\n` : '';
}

/** The gateway answers TCP at all: otherwise a clear input error, exit 2. */
async function checkReachable(o: SuiteOptions): Promise<void> {
  try {
    (await openSocket(o.gateway, undefined, ROUTE_TIMEOUT_MS)).destroy();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InputError(`cannot reach the gateway under test at ${o.gateway.host}:${o.gateway.port} (${code}): start it, or fix --gateway`);
  }
}

/**
 * Before any case: a tunnel to the echo upstream and one to the fake cloud must work through the
 * gateway. Tells whether the gateway chains through the suite's relay. Input error (exit 2) otherwise.
 */
async function checkRoute(o: SuiteOptions, up: UpstreamSet): Promise<{ viaRelay: boolean }> {
  const where = `${o.gateway.host}:${o.gateway.port}`;
  const help = 'configure the gateway with the route printed above';
  const mark = markOf(up.echo, up.relay);
  for (const [host, label] of [[ALLOWED_HOST, 'echo upstream'], [omsHostOf(o.workspaceId), 'fake cloud']] as const) {
    const socket = await openSocket(o.gateway, undefined, ROUTE_TIMEOUT_MS).catch((err: Error) => {
      throw new InputError(`route check: no connection to ${where} (${err.message})`);
    });
    try {
      const pending = readReply(socket, ROUTE_TIMEOUT_MS);
      socket.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n${authLine(o.proxyAuth)}\r\n`);
      const reply = await pending;
      // squid answers 500 while it holds its parent (the relay) for dead: down when squid started or since the last run.
      const squidHint = reply.status === 500 && up.relay.requests.length === mark.relay ? ' (if this is squid: its cache_peer was down when it last tried it; squid probes it again within seconds, so run again)' : '';
      if (!is2xx(reply.status)) throw new InputError(`route check: CONNECT ${host}:443 through ${where} answered ${reply.statusLine}, so the ${label} is not reachable${squidHint}; ${help}`);
      const t = await tlsInTunnel(socket, { servername: host, maxVersion: 'TLSv1.2' }, ROUTE_TIMEOUT_MS);
      if (!t.ok || !t.socket) throw new InputError(`route check: the tunnel to ${host}:443 opened but no TLS handshake with the ${label} followed (${t.error}); ${help}`);
      if (label === 'echo upstream') {
        const e = await echoes(t, Buffer.from('route check'));
        if (!e.ok) throw new InputError(`route check: the tunnel to ${host}:443 does not reach the suite's echo upstream (${e.seen}); ${help}`);
        if (!up.echo.connections.slice(mark.echo).some((c) => c.sni === host)) throw new InputError(`route check: a TLS server answered for ${host} but it is not the suite's echo upstream on 127.0.0.1:${up.ports.echoPort}; ${help}`);
      } else {
        const answer = await new Promise<string>((resolve) => {
          let got = '';
          const timer = setTimeout(() => resolve(got), ROUTE_TIMEOUT_MS);
          t.socket!.on('data', (c: Buffer) => {
            got += c.toString('latin1');
            if (got.includes('\r\n')) {
              clearTimeout(timer);
              resolve(got);
            }
          });
          t.socket!.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        });
        if (!/^HTTP\/1\.1 \d{3}/.test(answer)) throw new InputError(`route check: no HTTP answer from the fake cloud for ${host}; ${help}`);
      }
      t.socket.destroy();
    } finally {
      socket.destroy();
    }
  }
  return { viaRelay: up.relay.requests.slice(mark.relay).some((r) => r.authority?.toLowerCase().startsWith(ALLOWED_HOST)) };
}

async function settle<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let v = await read();
  while (!done(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

/** Section 12.<n>: the events and the four counters after section n, compared with what its cases make an OMS gateway log. */
async function checkSection(admin: AdminClient, before: { seq: number; counters: AdminCounters }, expected: EventTally, connected: boolean): Promise<Verdict> {
  const counters = await settle(() => admin.counters(), (c) => c.activeClientConnections === before.counters.activeClientConnections);
  const { tally } = await settle(() => admin.tallySince(before.seq), (t) => sameTally(t.tally, expected));
  const want = {
    activeClientConnections: before.counters.activeClientConnections,
    connectedClients: before.counters.connectedClients + (connected ? 1 : 0),
    rejectionCount: before.counters.rejectionCount + (expected[105] ?? 0) + (expected[106] ?? 0),
    errorCount: before.counters.errorCount + (expected[402] ?? 0) + (expected[403] ?? 0),
  };
  const off = (Object.keys(want) as (keyof typeof want)[]).filter((k) => counters[k] !== want[k]);
  const seenCounters = (Object.keys(want) as (keyof typeof want)[]).map((k) => `${k} ${counters[k]}`).join(', ');
  const wantCounters = (Object.keys(want) as (keyof typeof want)[]).map((k) => `${k} ${want[k]}`).join(', ');
  if (!sameTally(tally, expected) || off.length) {
    return fail(`events ${formatTally(expected)}; ${wantCounters}`, `events ${formatTally(tally)}; ${seenCounters}`);
  }
  return pass(`events ${formatTally(tally)}; ${seenCounters}`);
}

/** Runs the selected cases section by section against the gateway; the upstreams must be running. */
export async function runSuite(o: SuiteOptions, up: UpstreamSet, hooks: RunHooks = {}, selected: CaseDef[] = CASES): Promise<SuiteReport> {
  const startedAt = new Date();
  await checkReachable(o);
  const admin = o.admin ? new AdminClient(o.admin) : undefined;
  await admin?.verify();
  const { viaRelay } = await checkRoute(o, up);
  const net = sourceNet();
  const results: CaseResult[] = [];
  let resting: number | undefined;
  for (const section of SECTIONS.filter((s) => s.id < 12)) {
    const cases = selected.filter((c) => c.section === section.id);
    if (!cases.length) continue;
    hooks.onSection?.(`${section.id}. ${section.title}`);
    const bind = `${net}.${section.id}`;
    const expected: EventTally = {};
    let connected = false;
    // The previous section's last connections may still be closing on the gateway's side: wait until
    // Active Client Connection is back where the run found it, so this section's baseline is not off by one.
    if (admin && resting !== undefined) await settle(() => admin.counters(), (c) => c.activeClientConnections <= resting!);
    const before = admin ? { seq: await admin.lastSeq(), counters: await admin.counters() } : undefined;
    resting ??= before?.counters.activeClientConnections;
    for (const c of cases) {
      const ctx = makeContext(o, up, bind, viaRelay, (t) => addTally(expected, t), () => (connected = true));
      const started = Date.now();
      let verdict: Verdict;
      try {
        verdict = await c.run(ctx);
      } catch (err) {
        verdict = fail('the case to run to its end', `it stopped: ${(err as Error).message}`);
      }
      const result: CaseResult = { id: c.id, section: c.section, behaviour: c.behaviour, source: c.source, observed: c.observed, policy: c.policy, verdict, durationMs: Date.now() - started };
      results.push(result);
      hooks.onResult?.(result);
    }
    const check: CaseResult = {
      id: `12.${section.id}`,
      section: 12,
      behaviour: `after section ${section.id} (${section.title}): events 103–107, 402, 403 and the four counters are exactly what its cases imply`,
      source: '12',
      observed: 'GET /api/events since the section began, GET /api/counters before and after',
      verdict: notObservable('needs --admin (an omsgw management API); other gateways keep their own logs'),
      durationMs: 0,
    };
    check.source = 'product performance counters and event log (DESIGN §2); docs/gateway.md "Refusals, events and counters"';
    if (admin && before) {
      const started = Date.now();
      check.verdict = await checkSection(admin, before, expected, connected).catch((err: Error) => fail('the management API to answer', err.message));
      check.durationMs = Date.now() - started;
    }
    results.push(check);
  }
  for (const r of results.filter((x) => x.section === 12)) hooks.onResult?.(r);
  const count = (s: Verdict['status']) => results.filter((r) => r.verdict.status === s).length;
  return {
    gateway: `${o.gateway.host}:${o.gateway.port}`,
    admin: o.admin,
    tlsPolicy: o.tlsPolicy,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    sections: SECTIONS,
    results: [...results.filter((r) => r.section !== 12), ...results.filter((r) => r.section === 12)],
    totals: { pass: count('pass'), fail: count('fail'), notObservable: count('not-observable') },
  };
}

function makeContext(o: SuiteOptions, up: UpstreamSet, bind: string, viaRelay: boolean, expect: (t: EventTally) => void, onConnect: () => void): CaseContext {
  const ctx: CaseContext = {
    options: o,
    bind,
    viaRelay,
    certs: up.certs,
    expectEvents: expect,
    connectToGateway: async () => {
      onConnect();
      return openSocket(o.gateway, bind);
    },
    authLine: () => authLine(o.proxyAuth),
    mark: async () => {
      await setImmediate();
      return markOf(up.echo, up.relay);
    },
    seenSince: (m) => seenSince(up.echo, up.relay, m),
    barrier: async () => {
      const { socket, reply } = await send(ctx, connectHead(ctx, `${BARRIER_HOST}:443`));
      try {
        if (!is2xx(reply.status)) throw new Error(`the positive control (a tunnel to ${BARRIER_HOST}) was answered ${reply.statusLine}`);
        expect({ 103: 1, 107: 1 });
        const t = await tlsInTunnel(socket, withPolicy(ctx, { servername: BARRIER_HOST }));
        const e = t.ok ? await echoes(t, Buffer.from('barrier')) : { ok: false, seen: t.error ?? '' };
        t.socket?.destroy();
        if (!e.ok) throw new Error(`the positive control (a tunnel to ${BARRIER_HOST}) did not reach the echo upstream: ${e.seen}`);
      } finally {
        socket.destroy();
      }
    },
  };
  return ctx;
}
