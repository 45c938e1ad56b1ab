import type { CaseDef } from '../types.js';
import { ALLOWED_HOST, RELAY_REFUSED_HOST } from '../hosts.js';
import { connectHead, eagerTlsTunnel, echoes, expectRefused, expectTunnel, fail, is2xx, notObservable, pass, reached, refusalEvents, send, REPLY_TIMEOUT_MS } from '../checks.js';
import { waitClosed } from '../wire.js';
import { SRC } from './sources.js';

const A = `${ALLOWED_HOST}:443`;

/** Sections 6–8: request limits, proxy authentication, relay chaining. */
export const LIMIT_AUTH_RELAY_CASES: CaseDef[] = [
  {
    id: '6.1', section: 6, source: `${SRC.limits}; ${SRC.rfc431}`,
    behaviour: 'a CONNECT head of 100 KiB (one huge header field) is refused',
    observed: 'a 4xx status line or the connection closed without 2xx; nothing reaches the upstream',
    run: (ctx) =>
      expectRefused(ctx, connectHead(ctx, A, [`X-Padding: ${'a'.repeat(100 * 1024)}`]), {
        expected: 'a 4xx answer (431 expected) or a close without 2xx; nothing reaching the upstream',
        accept: (r) => (r.status !== null ? r.status >= 400 && r.status < 500 : r.closed),
      }),
  },
  {
    id: '6.2', section: 6, source: `${SRC.limits}; ${SRC.rfc431}`,
    behaviour: 'a CONNECT head with 2,000 header fields (about 30 KiB) is refused',
    observed: 'a 4xx status line or a close without 2xx; nothing reaches the upstream',
    run: (ctx) =>
      expectRefused(ctx, connectHead(ctx, A, Array.from({ length: 2000 }, (_, i) => `X-Field-${i}: v`)), {
        expected: 'a 4xx answer (431 expected) or a close without 2xx; nothing reaching the upstream',
        accept: (r) => (r.status !== null ? r.status >= 400 && r.status < 500 : r.closed),
      }),
  },
  {
    id: '6.3', section: 6, source: `${SRC.limits}; ${SRC.rfc408}`,
    behaviour: 'a CONNECT head that never completes is dropped after the head timeout',
    observed: 'the first line sent, then nothing: a 408 or a close within the configured head timeout plus 3 s; nothing reaches the upstream',
    run: async (ctx) => {
      const limit = ctx.options.headTimeoutMs + 3000;
      const mark = await ctx.mark();
      const socket = await ctx.connectToGateway();
      const closing = waitClosed(socket, limit);
      socket.write(`CONNECT ${A} HTTP/1.1\r\nHost: ${ALLOWED_HOST}\r\n`);
      const c = await closing;
      socket.destroy();
      ctx.expectEvents({ 104: 1 });
      const answer = c.received.toString('latin1').split('\r\n')[0] || '(nothing)';
      if (!c.closed) return fail(`closed within ${limit} ms (head timeout ${ctx.options.headTimeoutMs} ms + 3 s)`, `still open after ${limit} ms`);
      if (/^HTTP\/1\.[01] 2/.test(answer)) return fail('no tunnel for an incomplete head', answer);
      await ctx.barrier();
      const leaked = reached(ctx.seenSince(mark));
      if (leaked.length) return fail('nothing reaching the upstream', leaked.join('; '));
      return pass(`closed after ${c.afterMs} ms, answer: ${answer}`);
    },
  },
  {
    id: '6.4', section: 6, source: `${SRC.connect}; product: bytes sent right after the CONNECT head are kept`,
    behaviour: 'a ClientHello sent in the same write as the CONNECT head (pipelined) is not lost',
    observed: '2xx, then the TLS handshake completes and the echo is intact',
    run: async (ctx) => {
      const r = await eagerTlsTunnel(ctx, A, { servername: ALLOWED_HOST });
      try {
        if (!is2xx(r.reply.status)) {
          ctx.expectEvents(refusalEvents(r.reply.status));
          return fail('2xx then a TLS handshake', r.reply.statusLine);
        }
        ctx.expectEvents({ 103: 1, 107: 1 });
        if (!r.attempt?.ok) return fail('a TLS handshake over the pipelined ClientHello', r.attempt?.error ?? 'no handshake');
        const echo = await echoes(r.attempt, Buffer.from('pipelined'));
        return echo.ok ? pass(`${r.reply.statusLine}; ${echo.seen}`) : fail('echo intact', echo.seen);
      } finally {
        r.attempt?.socket?.destroy();
        r.socket.destroy();
      }
    },
  },
  {
    id: '7.1', section: 7, source: SRC.auth,
    behaviour: 'with proxy authentication required, a CONNECT without credentials gets 407 with Proxy-Authenticate',
    observed: 'status 407 and a Proxy-Authenticate header; nothing reaches the upstream',
    run: (ctx) => {
      if (!ctx.options.proxyAuth) return Promise.resolve(notObservable('the run was not told the gateway requires credentials (--proxy-auth user:pass)'));
      return expectRefused(ctx, connectHead(ctx, A, [], false), {
        expected: '407 with Proxy-Authenticate; nothing reaching the upstream',
        accept: (r) => r.status === 407 && /basic/i.test(r.headers['proxy-authenticate'] ?? ''),
      });
    },
  },
  {
    id: '7.2', section: 7, source: SRC.auth,
    behaviour: 'wrong proxy credentials get 407',
    observed: 'status 407; nothing reaches the upstream',
    run: (ctx) => {
      if (!ctx.options.proxyAuth) return Promise.resolve(notObservable('the run was not told the gateway requires credentials (--proxy-auth user:pass)'));
      const wrong = `Proxy-Authorization: Basic ${Buffer.from('conformance:wrong-password').toString('base64')}`;
      return expectRefused(ctx, connectHead(ctx, A, [wrong], false), { expected: '407; nothing reaching the upstream', accept: (r) => r.status === 407 });
    },
  },
  {
    id: '7.3', section: 7, source: SRC.auth,
    behaviour: 'the right proxy credentials open the tunnel',
    observed: '2xx, TLS handshake, echo intact',
    run: (ctx) => (ctx.options.proxyAuth ? expectTunnel(ctx, A, { servername: ALLOWED_HOST }) : Promise.resolve(notObservable('the run was not told the gateway requires credentials (--proxy-auth user:pass)'))),
  },
  {
    id: '8.1', section: 8, source: SRC.relay,
    behaviour: 'through a relay, the gateway sends CONNECT for the same host:port the client asked for',
    observed: 'the request line the suite\'s relay receives',
    run: async (ctx) => {
      if (!ctx.viaRelay) return notObservable('the gateway does not route through the suite\'s relay in this run (host map or direct route)');
      const mark = await ctx.mark();
      const verdict = await expectTunnel(ctx, A, { servername: ALLOWED_HOST });
      if (verdict.status !== 'pass') return verdict;
      const got = ctx.seenSince(mark).relay.map((r) => r.requestLine);
      return got.some((l) => l.toLowerCase() === `connect ${A} http/1.1` || l.toLowerCase() === `connect ${A} http/1.0`) ? pass(`relay got "${got[0]}"`) : fail(`relay gets "CONNECT ${A} HTTP/1.1"`, got.length ? got.join('; ') : 'nothing');
    },
  },
  {
    id: '8.2', section: 8, source: SRC.relay,
    behaviour: 'the gateway presents the relay credentials (Proxy-Authorization: Basic) to the relay',
    observed: 'the Proxy-Authorization the suite\'s relay receives',
    run: async (ctx) => {
      if (!ctx.viaRelay) return notObservable('the gateway does not route through the suite\'s relay in this run');
      if (!ctx.options.relayAuth) return notObservable('the suite\'s relay requires no credentials in this run (--relay-auth user:pass)');
      const mark = await ctx.mark();
      const verdict = await expectTunnel(ctx, A, { servername: ALLOWED_HOST });
      const want = `Basic ${Buffer.from(ctx.options.relayAuth).toString('base64')}`;
      const seen = ctx.seenSince(mark).relay.map((r) => r.proxyAuthorization ?? '(none)');
      if (verdict.status !== 'pass') return verdict;
      return seen.every((s) => s === want) && seen.length ? pass('relay got the configured Basic credentials') : fail('Proxy-Authorization with the relay credentials', seen.join('; ') || 'no request');
    },
  },
  {
    id: '8.3', section: 8, source: `${SRC.relay}; product: relay refusal → event 403, 502`,
    behaviour: 'when the relay refuses the CONNECT, the client gets no tunnel',
    observed: 'a non-2xx status line (502 expected) for an allowed host the relay refuses',
    run: async (ctx) => {
      if (!ctx.viaRelay) return notObservable('the gateway does not route through the suite\'s relay in this run');
      const { socket, reply } = await send(ctx, connectHead(ctx, `${RELAY_REFUSED_HOST}:443`), REPLY_TIMEOUT_MS);
      socket.destroy();
      ctx.expectEvents(reply.status === null || is2xx(reply.status) ? { 103: 1 } : refusalEvents(reply.status));
      return reply.status !== null && !is2xx(reply.status) ? pass(reply.statusLine) : fail('a non-2xx status line (502)', reply.statusLine);
    },
  },
];
