import type { CaseDef } from '../types.js';
import { ALLOWED_HOST } from '../hosts.js';
import { connectHead, expectRefused, expectTunnel, fail, is2xx, pass, send } from '../checks.js';
import { SRC } from './sources.js';

const A = `${ALLOWED_HOST}:443`;
const tls12 = { servername: ALLOWED_HOST } as const;

/** Sections 1–4: what a gateway answers before any tunnel exists. */
export const REQUEST_CASES: CaseDef[] = [
  {
    id: '1.1', section: 1, source: `${SRC.product}; ${SRC.connect}`,
    behaviour: 'CONNECT to an allowed host on port 443 opens a tunnel to it',
    observed: 'status line 2xx, then a TLS handshake with the echo upstream and an echo intact',
    run: (ctx) => expectTunnel(ctx, A, tls12),
  },
  {
    id: '1.2', section: 1, source: SRC.connect,
    behaviour: 'a 2xx answer to CONNECT carries no Content-Length or Transfer-Encoding',
    observed: 'the header fields of the 2xx answer',
    run: async (ctx) => {
      const { socket, reply } = await send(ctx, connectHead(ctx, A));
      socket.destroy();
      if (!is2xx(reply.status)) {
        ctx.expectEvents({ 104: 1 });
        return fail('a 2xx answer without Content-Length / Transfer-Encoding', reply.statusLine);
      }
      // The tunnel is closed before any TLS byte: no verdict, so 103 only.
      ctx.expectEvents({ 103: 1 });
      const bad = ['content-length', 'transfer-encoding'].filter((h) => h in reply.headers);
      return bad.length ? fail('no Content-Length or Transfer-Encoding', `${reply.statusLine} with ${bad.join(', ')}`) : pass(`${reply.statusLine}, no framing headers`);
    },
  },
  {
    id: '1.3', section: 1, source: `${SRC.product} (event 104)`,
    behaviour: 'a GET in absolute form (plain HTTP proxying) is refused and nothing is forwarded',
    observed: 'status line 4xx (405 expected); no request reaches the relay or the echo upstream',
    run: (ctx) => expectRefused(ctx, `GET http://${ALLOWED_HOST}/ HTTP/1.1\r\nHost: ${ALLOWED_HOST}\r\n${ctx.authLine()}\r\n`),
  },
  {
    id: '1.4', section: 1, source: `${SRC.product} (event 104)`,
    behaviour: 'a POST in absolute form with a body is refused and nothing is forwarded',
    observed: 'status line 4xx; nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, `POST http://${ALLOWED_HOST}/OperationalData.svc/PostJsonDataItems HTTP/1.1\r\nHost: ${ALLOWED_HOST}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n${ctx.authLine()}\r\n{}`),
  },
  {
    id: '1.5', section: 1, source: `${SRC.product} (event 104)`,
    behaviour: 'an origin-form request (a web server request, not a proxy request) is refused',
    observed: 'status line 4xx; nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, `GET / HTTP/1.1\r\nHost: ${ALLOWED_HOST}\r\n${ctx.authLine()}\r\n`),
  },
  {
    id: '2.1', section: 2, source: `${SRC.product} (event 105 "Target port … is forbidden")`,
    behaviour: 'CONNECT to an allowed host on port 8443 is refused',
    observed: 'status line 403 (a 4xx); nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, connectHead(ctx, `${ALLOWED_HOST}:8443`)),
  },
  {
    id: '2.2', section: 2, source: `${SRC.product} (event 105)`,
    behaviour: 'CONNECT to an allowed host on port 80 is refused',
    observed: 'status line 403 (a 4xx); nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, connectHead(ctx, `${ALLOWED_HOST}:80`)),
  },
  {
    id: '3.1', section: 3, source: `${SRC.product}: the allowlist holds host names`,
    behaviour: 'CONNECT to an IPv4 literal is refused (no address is on a host-name allowlist)',
    observed: 'status line 4xx; nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, connectHead(ctx, '127.0.0.1:443')),
  },
  {
    id: '3.2', section: 3, source: `${SRC.product}: the allowlist holds host names`,
    behaviour: 'CONNECT to a bracketed IPv6 literal is refused',
    observed: 'status line 4xx; nothing reaches the upstream',
    run: (ctx) => expectRefused(ctx, connectHead(ctx, '[::1]:443')),
  },
  ...malformed('4.1', 'no port', ALLOWED_HOST),
  ...malformed('4.2', 'a port above 65535', `${ALLOWED_HOST}:65536`),
  ...malformed('4.3', 'userinfo', `user:secret@${ALLOWED_HOST}:443`),
  ...malformed('4.4', 'a path', `${ALLOWED_HOST}:443/AgentService.svc`),
  ...malformed('4.5', 'an IPv6 literal without brackets', '::1:443'),
  ...malformed('4.6', 'an empty host', ':443'),
];

function malformed(id: string, what: string, authority: string): CaseDef[] {
  return [
    {
      id, section: 4, source: `${SRC.authority}; product: 400 for malformed targets`,
      behaviour: `a CONNECT target with ${what} (${authority}) is refused`,
      observed: 'status line 4xx (400 expected); nothing reaches the upstream',
      run: (ctx) => expectRefused(ctx, `CONNECT ${authority} HTTP/1.1\r\nHost: ${ALLOWED_HOST}\r\n${ctx.authLine()}\r\n`),
    },
  ];
}
