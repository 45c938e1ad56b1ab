import { createHash, randomBytes } from 'node:crypto';
import type { CaseDef } from '../types.js';
import { ALLOWED_CLIENT_SUBJECT, ALLOWED_HOST, FORBIDDEN_HOST } from '../hosts.js';
import { echoes, expectCutHandshake, expectCutRaw, expectTunnel, fail, is2xx, notObservable, pass, refusalEvents, tlsTunnel } from '../checks.js';
import { malformedClientHello, ssl3ClientHello } from '../hellos.js';
import { roundTrip, waitClosed } from '../wire.js';
import { SRC } from './sources.js';

const A = `${ALLOWED_HOST}:443`;
const POLICY_BOTH = 'any (SSL refused by today\'s and the 2016 documentation alike)';

/** Sections 9 and 10: TLS checks visible on the wire, and the tunnel itself. */
export const TLS_TUNNEL_CASES: CaseDef[] = [
  {
    id: '9.1', section: 9, source: SRC.tls, policy: POLICY_BOTH,
    behaviour: 'a TLS 1.2 handshake inside the tunnel completes and data flows',
    observed: 'TLS 1.2 handshake with the echo upstream, echo intact',
    run: (ctx) => expectTunnel(ctx, A, { servername: ALLOWED_HOST, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }),
  },
  {
    id: '9.2', section: 9, source: SRC.tls, policy: '--tls-policy: current (TLS 1.0–1.3: passes) or preview-2016 (TLS 1.0–1.2: cut, 106)',
    behaviour: 'a client that offers only TLS 1.3 is let through (current policy) or cut before application data (2016 policy)',
    observed: 'TLS 1.3-only handshake: completes and echoes, or the tunnel closes with no application data upstream',
    run: (ctx) =>
      ctx.options.tlsPolicy === 'current'
        ? expectTunnel(ctx, A, { servername: ALLOWED_HOST, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })
        : expectCutHandshake(ctx, A, { servername: ALLOWED_HOST, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }, { 103: 1, 106: 1 }),
  },
  {
    id: '9.3', section: 9, source: SRC.tls, policy: POLICY_BOTH,
    behaviour: 'an SSL 3.0 ClientHello is refused (event 106): the tunnel is cut',
    observed: 'the gateway closes the tunnel and no byte of the upstream\'s answer (its TLS alert) reaches the client',
    run: (ctx) => expectCutRaw(ctx, A, ssl3ClientHello(), { 103: 1, 106: 1 }),
  },
  {
    id: '9.4', section: 9, source: `${SRC.tls}: SNI must name the CONNECT host (105)`,
    behaviour: 'a ClientHello whose SNI is not the CONNECT host is cut before application data',
    observed: `CONNECT ${A}, SNI ${FORBIDDEN_HOST}: the handshake does not complete and the upstream gets no application data`,
    run: (ctx) => expectCutHandshake(ctx, A, { servername: FORBIDDEN_HOST, maxVersion: 'TLSv1.2' }, { 103: 1, 105: 1 }),
  },
  {
    id: '9.5', section: 9, source: SRC.clientCert, policy: 'TLS 1.2 (under TLS 1.3 the client certificate is encrypted and cannot be checked)',
    behaviour: 'a client certificate whose subject is not on the client allowlist is cut before application data',
    observed: 'TLS 1.2 with the "conformance-intruder" certificate: the handshake does not complete, no application data upstream',
    run: (ctx) => expectCutHandshake(ctx, A, { servername: ALLOWED_HOST, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', cert: ctx.certs.intruder.certPem, key: ctx.certs.intruder.keyPem }, { 103: 1, 105: 1 }),
  },
  {
    id: '9.6', section: 9, source: SRC.clientCert, policy: 'TLS 1.2',
    behaviour: `a client certificate on the client allowlist (${ALLOWED_CLIENT_SUBJECT}) is let through`,
    observed: 'TLS 1.2 handshake with that certificate completes, echo intact',
    run: (ctx) => expectTunnel(ctx, A, { servername: ALLOWED_HOST, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', cert: ctx.certs.allowed.certPem, key: ctx.certs.allowed.keyPem }),
  },
  {
    id: '9.7', section: 9, source: `${SRC.tls} (402 TLS handshake parse error)`,
    behaviour: 'a malformed ClientHello (its session id overruns the message) is refused: the tunnel is cut',
    observed: 'the gateway closes the tunnel; the upstream\'s TLS alert never reaches the client',
    run: (ctx) => expectCutRaw(ctx, A, malformedClientHello(), { 103: 1, 402: 1 }),
  },
  {
    id: '9.8', section: 9, source: `${SRC.tls}: the gateway only carries TLS (402)`,
    behaviour: 'plain-text bytes instead of a TLS handshake are refused: the tunnel is cut',
    observed: 'the gateway closes the tunnel; the echo upstream\'s copy never reaches the client',
    run: (ctx) => expectCutRaw(ctx, A, Buffer.from(`GET / HTTP/1.1\r\nHost: ${ALLOWED_HOST}\r\n\r\n`), { 103: 1, 402: 1 }),
  },
  {
    id: '10.1', section: 10, source: SRC.tunnel,
    behaviour: 'a small message crosses the tunnel intact both ways',
    observed: '64 random bytes echoed back through TLS byte for byte',
    run: (ctx) => echoCase(ctx, 64),
  },
  {
    id: '10.2', section: 10, source: SRC.tunnel,
    behaviour: 'a large message (4 MiB) crosses the tunnel intact both ways',
    observed: '4 MiB of random bytes echoed back through TLS, compared byte for byte',
    run: (ctx) => echoCase(ctx, 4 * 1024 * 1024),
  },
  {
    id: '10.3', section: 10, source: SRC.tunnel,
    behaviour: 'half-close: after the client ends its side, the upstream sees the end and its answer still reaches the client',
    observed: '256 KiB sent, client half-closes; the upstream answers byte count + SHA-256 after seeing the end',
    run: async (ctx) => {
      const r = await tlsTunnel(ctx, A, { servername: ALLOWED_HOST });
      const expected = 'the upstream\'s answer after the client\'s end: "<count> <sha256>"';
      try {
        if (!is2xx(r.reply.status)) {
          ctx.expectEvents(refusalEvents(r.reply.status));
          return fail(expected, r.reply.statusLine);
        }
        ctx.expectEvents({ 103: 1, 107: 1 });
        if (!r.attempt?.ok || !r.attempt.socket) return fail(expected, r.attempt?.error ?? 'no TLS');
        const payload = randomBytes(256 * 1024);
        const want = `${payload.length} ${createHash('sha256').update(payload).digest('hex')}`;
        const socket = r.attempt.socket;
        const answer = roundTrip(socket, Buffer.alloc(0), want.length);
        socket.write(Buffer.concat([Buffer.from('H'), payload]));
        socket.end();
        const got = (await answer).toString('latin1');
        return got === want ? pass(`answer after the end: ${got.slice(0, 24)}…`) : fail(expected, got ? `"${got.slice(0, 60)}"` : 'nothing (the tunnel closed both ways at the client\'s end)');
      } finally {
        r.attempt?.socket?.destroy();
        r.socket.destroy();
      }
    },
  },
  {
    id: '10.4', section: 10, source: SRC.limits,
    behaviour: 'an idle tunnel is closed by the gateway after its idle timeout, not before half of it',
    observed: 'a verified tunnel left idle: closed between 50 % of the configured idle timeout and the timeout + 3 s',
    run: async (ctx) => {
      const idle = ctx.options.idleTimeoutMs;
      if (idle === undefined) return notObservable('the gateway\'s idle timeout was not given (--idle-timeout-ms); the product default (5 min) is too long to wait for');
      const r = await tlsTunnel(ctx, A, { servername: ALLOWED_HOST });
      try {
        if (!is2xx(r.reply.status)) {
          ctx.expectEvents(refusalEvents(r.reply.status));
          return fail('a tunnel, then closed when idle', r.reply.statusLine);
        }
        ctx.expectEvents({ 103: 1, 107: 1 });
        if (!r.attempt?.ok) return fail('a tunnel, then closed when idle', r.attempt?.error ?? 'no TLS');
        const ok = await echoes(r.attempt, Buffer.from('before idling'));
        if (!ok.ok) return fail('echo before idling', ok.seen);
        // The TLS client owns the tunnel socket now: its close is the tunnel's.
        const c = await waitClosed(r.attempt.socket!, idle + 3000);
        const window = `between ${Math.round(idle / 2)} and ${idle + 3000} ms`;
        if (!c.closed) return fail(`closed ${window}`, `still open after ${idle + 3000} ms`);
        if (c.afterMs < idle / 2) return fail(`closed ${window}`, `closed after ${c.afterMs} ms`);
        return pass(`closed after ${c.afterMs} ms idle (timeout ${idle} ms)`);
      } finally {
        r.attempt?.socket?.destroy();
        r.socket.destroy();
      }
    },
  },
];

async function echoCase(ctx: Parameters<CaseDef['run']>[0], size: number) {
  const r = await tlsTunnel(ctx, A, { servername: ALLOWED_HOST });
  try {
    if (!is2xx(r.reply.status)) {
      ctx.expectEvents(refusalEvents(r.reply.status));
      return fail('a tunnel with the echo intact', r.reply.statusLine);
    }
    ctx.expectEvents({ 103: 1, 107: 1 });
    if (!r.attempt?.ok) return fail('a TLS handshake', r.attempt?.error ?? 'no TLS');
    const e = await echoes(r.attempt, randomBytes(size));
    return e.ok ? pass(e.seen) : fail(`${size} bytes echoed intact`, e.seen);
  } finally {
    r.attempt?.socket?.destroy();
    r.socket.destroy();
  }
}
