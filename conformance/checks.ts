import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { EagerTunnel } from './eager-tunnel.js';
import { BARRIER_HOST } from './hosts.js';
import type { CaseContext, EventTally, UpstreamMark, UpstreamSeen, Verdict } from './types.js';
import { readReply, roundTrip, tlsInTunnel, waitClosed, type Reply, type TlsAttempt } from './wire.js';

export const REPLY_TIMEOUT_MS = 5000;

export const pass = (seen: string): Verdict => ({ status: 'pass', seen });
export const fail = (expected: string, seen: string): Verdict => ({ status: 'fail', expected, seen });
export const notObservable = (why: string): Verdict => ({ status: 'not-observable', why });

export function connectHead(ctx: CaseContext, authority: string, extra: string[] = [], withAuth = true): string {
  const host = /^\[/.test(authority) ? authority : authority.replace(/:\d*$/, '');
  return `CONNECT ${authority} HTTP/1.1\r\nHost: ${host}\r\n${extra.map((l) => `${l}\r\n`).join('')}${withAuth ? ctx.authLine() : ''}\r\n`;
}

/** Sends raw bytes on a new connection and reads the answer's head. */
export async function send(ctx: CaseContext, raw: string | Buffer, timeoutMs = REPLY_TIMEOUT_MS): Promise<{ socket: Socket; reply: Reply }> {
  const socket = await ctx.connectToGateway();
  const pending = readReply(socket, timeoutMs);
  socket.write(raw);
  return { socket, reply: await pending };
}

/** What reached the upstreams since `mark`, leaving out the barrier's own tunnel. */
export function reached(seen: UpstreamSeen): string[] {
  const what: string[] = [];
  for (const r of seen.relay) if (!r.authority?.toLowerCase().startsWith(BARRIER_HOST)) what.push(`relay got "${r.requestLine}"`);
  for (const c of seen.echo) if (c.sni !== BARRIER_HOST) what.push(`echo upstream got a connection (${c.bytesIn} bytes${c.sni ? `, SNI ${c.sni}` : ''})`);
  return what;
}

export const is2xx = (s: number | null): boolean => s !== null && s >= 200 && s < 300;
export const is4xx = (s: number | null): boolean => s !== null && s >= 400 && s < 500;

/** The events an OMS gateway logs for a refusal with this status (docs/gateway.md, "Refusals, events and counters"). */
export function refusalEvents(status: number | null): EventTally {
  if (status === 403) return { 103: 1, 105: 1 };
  // A well-formed CONNECT is logged (103) before its credentials are judged.
  if (status === 407) return { 103: 1, 104: 1 };
  if (status === 502 || status === 504) return { 103: 1, 403: 1 };
  return { 104: 1 };
}

export interface RefusalOptions {
  /** What an acceptable answer is, in words and as a test. Default: a 4xx status line. */
  expected?: string;
  accept?: (reply: Reply) => boolean;
  timeoutMs?: number;
}

/**
 * Sends a request that an OMS gateway must refuse. Pass: the answer is a refusal and, after a
 * positive-control tunnel (the barrier) has reached the echo upstream, nothing of the request
 * reached either upstream.
 */
export async function expectRefused(ctx: CaseContext, raw: string | Buffer, o: RefusalOptions = {}): Promise<Verdict> {
  const mark = await ctx.mark();
  const { socket, reply } = await send(ctx, raw, o.timeoutMs);
  socket.destroy();
  ctx.expectEvents(refusalEvents(reply.status));
  return judgeRefusal(ctx, mark, reply, o);
}

export async function judgeRefusal(ctx: CaseContext, mark: UpstreamMark, reply: Reply, o: RefusalOptions = {}): Promise<Verdict> {
  await ctx.barrier();
  const leaked = reached(ctx.seenSince(mark));
  const expected = o.expected ?? 'a 4xx status line, nothing reaching the upstream';
  const accepted = (o.accept ?? ((r: Reply) => is4xx(r.status)))(reply);
  if (!accepted) return fail(expected, reply.statusLine + (leaked.length ? `; ${leaked.join('; ')}` : ''));
  if (leaked.length) return fail(expected, `${reply.statusLine}, but ${leaked.join('; ')}`);
  return pass(`${reply.statusLine}; nothing reached the upstream`);
}

export interface TunnelResult {
  reply: Reply;
  attempt?: TlsAttempt;
  socket: Socket;
}

type TlsOpts = Parameters<typeof tlsInTunnel>[1];

/**
 * Clients of the 2016 policy's era (and its cloud) spoke at most TLS 1.2: under preview-2016 every
 * client of the suite caps there unless a case asks for a version itself (9.2 offers only 1.3).
 */
export function withPolicy(ctx: CaseContext, opts: TlsOpts): TlsOpts {
  if (ctx.options.tlsPolicy !== 'preview-2016' || opts.maxVersion) return opts;
  return { ...opts, maxVersion: 'TLSv1.2' };
}

/** CONNECT, then (on 2xx) a TLS handshake inside the tunnel. */
export async function tlsTunnel(ctx: CaseContext, authority: string, tlsOptions: TlsOpts, extra: string[] = []): Promise<TunnelResult> {
  const opts = withPolicy(ctx, tlsOptions);
  const { socket, reply } = await send(ctx, connectHead(ctx, authority, extra));
  if (!is2xx(reply.status)) {
    socket.destroy();
    return { reply, socket };
  }
  const attempt = await tlsInTunnel(socket, opts);
  return { reply, attempt, socket };
}

/** CONNECT head and ClientHello in one write (an eager client), then the TLS handshake. */
export async function eagerTlsTunnel(ctx: CaseContext, authority: string, opts: tls.ConnectionOptions): Promise<TunnelResult> {
  const socket = await ctx.connectToGateway();
  const duplex = new EagerTunnel(socket, connectHead(ctx, authority));
  const attemptP = tlsInTunnel(duplex as unknown as Socket, withPolicy(ctx, opts as TlsOpts));
  const reply = await duplex.reply;
  const attempt = await attemptP;
  return { reply, attempt: is2xx(reply.status) ? attempt : undefined, socket };
}

/** Echo check inside an established TLS tunnel: `payload` goes up and must come back byte for byte. */
export async function echoes(attempt: TlsAttempt, payload: Buffer): Promise<{ ok: boolean; seen: string }> {
  if (!attempt.socket) return { ok: false, seen: attempt.error ?? 'no TLS session' };
  const back = await roundTrip(attempt.socket, Buffer.concat([Buffer.from('E'), payload]), payload.length);
  if (back.equals(payload)) return { ok: true, seen: `${payload.length} bytes echoed intact over ${attempt.protocol}` };
  return { ok: false, seen: `sent ${payload.length} bytes, got back ${back.length}${back.length === payload.length ? ' that differ' : ''}` };
}

/** Allowed tunnel: 2xx, TLS handshake, echo intact. Expects 103 + 107. */
export async function expectTunnel(ctx: CaseContext, authority: string, opts: Parameters<typeof tlsInTunnel>[1], extra: string[] = []): Promise<Verdict> {
  const expected = 'a 2xx answer, a TLS handshake with the upstream and the echo intact';
  const r = await tlsTunnel(ctx, authority, opts, extra);
  try {
    if (!is2xx(r.reply.status)) {
      ctx.expectEvents(refusalEvents(r.reply.status));
      return fail(expected, r.reply.statusLine);
    }
    ctx.expectEvents({ 103: 1, 107: 1 });
    if (!r.attempt?.ok) return fail(expected, `${r.reply.statusLine}, then ${r.attempt?.error}`);
    const echo = await echoes(r.attempt, Buffer.from('conformance'));
    return echo.ok ? pass(`${r.reply.statusLine}; ${echo.seen}`) : fail(expected, echo.seen);
  } finally {
    r.attempt?.socket?.destroy();
    r.socket.destroy();
  }
}

/**
 * A tunnel that the gateway must cut during the handshake (TLS checks): CONNECT is answered 2xx, then
 * the handshake must not complete and no application byte may reach the upstream.
 */
export async function expectCutHandshake(ctx: CaseContext, authority: string, opts: Parameters<typeof tlsInTunnel>[1], cutEvents: EventTally): Promise<Verdict> {
  const expected = 'the tunnel cut during the handshake, no application data reaching the upstream';
  const mark = await ctx.mark();
  const r = await tlsTunnel(ctx, authority, opts);
  try {
    if (!is2xx(r.reply.status)) {
      ctx.expectEvents(refusalEvents(r.reply.status));
      return fail(expected, `CONNECT answered ${r.reply.statusLine} (this case needs the tunnel opened)`);
    }
    ctx.expectEvents(cutEvents);
    if (r.attempt?.ok) {
      const echo = await echoes(r.attempt, Buffer.from('application data'));
      return fail(expected, `${r.attempt.protocol} handshake completed${echo.ok ? ' and application data was echoed' : ''}`);
    }
    await ctx.barrier();
    const app = ctx.seenSince(mark).echo.filter((c) => c.sni !== BARRIER_HOST && c.appBytes > 0);
    if (app.length) return fail(expected, `${r.attempt?.error}; the upstream received ${app[0].appBytes} application bytes`);
    return pass(r.attempt?.error ?? 'cut');
  } finally {
    r.attempt?.socket?.destroy();
    r.socket.destroy();
  }
}

/**
 * Raw bytes in an open tunnel that an inspecting gateway must refuse: the gateway closes the
 * connection and the client gets nothing back from the upstream (a forwarding proxy hands back
 * the upstream's answer, e.g. its TLS alert or echo).
 */
export async function expectCutRaw(ctx: CaseContext, authority: string, bytes: Buffer, cutEvents: EventTally): Promise<Verdict> {
  const expected = 'the gateway closes the tunnel; no byte from the upstream reaches the client';
  const { socket, reply } = await send(ctx, connectHead(ctx, authority));
  try {
    if (!is2xx(reply.status)) {
      ctx.expectEvents(refusalEvents(reply.status));
      return fail(expected, `CONNECT answered ${reply.statusLine} (this case needs the tunnel opened)`);
    }
    ctx.expectEvents(cutEvents);
    const closing = waitClosed(socket, REPLY_TIMEOUT_MS);
    socket.write(bytes);
    const c = await closing;
    const back = Buffer.concat([reply.rest, c.received]);
    if (back.length) return fail(expected, `${back.length} bytes came back from the upstream (first byte 0x${back[0].toString(16).padStart(2, '0')}${back[0] === 0x15 ? ', a TLS alert' : ''})${c.closed ? ', then the connection closed' : ''}`);
    if (!c.closed) return fail(expected, `the tunnel stayed open for ${REPLY_TIMEOUT_MS} ms`);
    return pass(`closed after ${c.afterMs} ms with nothing from the upstream`);
  } finally {
    socket.destroy();
  }
}
