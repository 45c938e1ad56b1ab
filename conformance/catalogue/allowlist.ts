import type { CaseDef } from '../types.js';
import { ALLOWED_HOST, FORBIDDEN_HOST, PUNYCODE_HOST, SUBDOMAIN_HOST, UNICODE_HOST } from '../hosts.js';
import { connectHead, eagerTlsTunnel, expectRefused, expectTunnel, judgeRefusal, refusalEvents } from '../checks.js';
import { SRC } from './sources.js';

/** Section 5: the server allowlist (allowedlist_server.txt). */
export const ALLOWLIST_CASES: CaseDef[] = [
  {
    id: '5.1', section: 5, source: SRC.product,
    behaviour: 'a host on the allowlist, written exactly, is tunnelled',
    observed: '2xx, TLS handshake with the echo upstream, echo intact',
    run: (ctx) => expectTunnel(ctx, `${ALLOWED_HOST}:443`, { servername: ALLOWED_HOST }),
  },
  {
    id: '5.2', section: 5, source: `${SRC.product}; host names are case-insensitive (RFC 4343)`,
    behaviour: 'the allowlist match ignores case (ALLOWED.Conformance.TEST)',
    observed: '2xx, TLS handshake, echo intact',
    run: (ctx) => expectTunnel(ctx, 'ALLOWED.Conformance.TEST:443', { servername: ALLOWED_HOST }),
  },
  {
    id: '5.3', section: 5, source: `${SRC.product}; a trailing dot names the same host (RFC 1034 §3.1)`,
    behaviour: 'an allowed host written with a trailing dot is the same host',
    observed: '2xx, TLS handshake, echo intact',
    run: (ctx) => expectTunnel(ctx, `${ALLOWED_HOST}.:443`, { servername: ALLOWED_HOST }),
  },
  {
    id: '5.4', section: 5, source: `${SRC.field2016}; ${SRC.product}`,
    behaviour: 'a host not on the allowlist is refused, and nothing sent with the CONNECT reaches the upstream',
    observed: 'CONNECT head + ClientHello in one write; status line 403 (a 4xx); the relay and the echo upstream see nothing',
    run: async (ctx) => {
      const mark = await ctx.mark();
      const r = await eagerTlsTunnel(ctx, `${FORBIDDEN_HOST}:443`, { servername: FORBIDDEN_HOST });
      r.attempt?.socket?.destroy();
      r.socket.destroy();
      ctx.expectEvents(r.reply.status === null || r.reply.status < 300 ? { 103: 1, 107: 1 } : refusalEvents(r.reply.status));
      return judgeRefusal(ctx, mark, r.reply);
    },
  },
  {
    id: '5.5', section: 5, source: `${SRC.product}: exact host names, no wildcards`,
    behaviour: `a sub-domain of an allowed host is not implied (${SUBDOMAIN_HOST})`,
    observed: 'status line 403 (a 4xx); nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, connectHead(ctx, `${SUBDOMAIN_HOST}:443`)),
  },
  {
    id: '5.6', section: 5, source: `${SRC.product}: exact host names`,
    behaviour: `a name that merely begins with an allowed host is refused (${ALLOWED_HOST}.example.net)`,
    observed: 'status line 403 (a 4xx); nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, connectHead(ctx, `${ALLOWED_HOST}.example.net:443`)),
  },
  {
    id: '5.7', section: 5, source: `${SRC.product}; internationalised names travel as A-labels (RFC 5890)`,
    behaviour: `an allowed punycode name (${PUNYCODE_HOST}) is tunnelled`,
    observed: '2xx, TLS handshake, echo intact',
    run: (ctx) => expectTunnel(ctx, `${PUNYCODE_HOST}:443`, { servername: PUNYCODE_HOST }),
  },
  {
    id: '5.8', section: 5, source: `${SRC.authority}: a request target is ASCII; RFC 5890`,
    behaviour: `the raw UTF-8 form (${UNICODE_HOST}) of an allowed punycode name is refused, not decoded into a match`,
    observed: 'status line 4xx; nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, Buffer.from(connectHead(ctx, `${UNICODE_HOST}:443`), 'utf8')),
  },
];
