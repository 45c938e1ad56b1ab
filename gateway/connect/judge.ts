import type { LiveSettings } from '../live-settings.js';
import type { Refusal } from '../statuses.js';
import { AuthorityError, parseAuthority, type Authority } from './authority.js';
import { headerValue, type HeadFailure, type RequestHead } from './request-head.js';

/**
 * The gateway's policy for one request, as data: accept (with the parsed target) or a refusal.
 * `authority` is set whenever the target parsed, refused or not: the pipeline logs such a request
 * as 103 before the refusal, the way the 2016 gateway did.
 */
export type Judgement = { verdict: 'accept'; authority: Authority } | { verdict: 'refuse'; refusal: Refusal; authority?: Authority };

/** The part of the live settings that decides; the rest (routes, TLS) comes later in the pipeline. */
export type JudgeSettings = Pick<LiveSettings, 'proxyAuth' | 'allowlist' | 'allowedPorts'>;

/**
 * Judges a request head against the live settings: a pure function (no socket, no clock, no log).
 * Checks run in a fixed order: method, a declared body, the target, proxy credentials, host, port.
 */
export function judge(head: RequestHead, settings: JudgeSettings): Judgement {
  if (head.method !== 'CONNECT') {
    return refuse({ kind: 'not-connect', detail: `${head.method} ${truncate(head.target)}`, answer: 'This gateway only serves CONNECT host:port requests.', fields: { method: head.method } });
  }
  const length = headerValue(head.headers, 'content-length');
  if (headerValue(head.headers, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0')) {
    // A CONNECT has no body; bytes after the head belong to the tunnel, so a declared body is ambiguous.
    return refuse(badRequest('a CONNECT request must not declare a body (Content-Length/Transfer-Encoding)'));
  }
  let authority: Authority;
  try {
    authority = parseAuthority(head.target);
  } catch (err) {
    if (!(err instanceof AuthorityError)) throw err;
    return refuse(badRequest(err.message));
  }
  const target = authority.display;
  const credentials = headerValue(head.headers, 'proxy-authorization');
  if (settings.proxyAuth && !settings.proxyAuth.matches(credentials)) {
    const why = credentials ? 'wrong proxy credentials' : 'no proxy credentials';
    return refuse({ kind: 'proxy-auth-required', detail: `CONNECT ${target} (${why})`, answer: 'Proxy authentication required.', target }, authority);
  }
  if (!settings.allowlist.allows(authority.host)) {
    const says = `Target host (${authority.host}) is forbidden`;
    return refuse({ kind: 'forbidden-host', detail: says, answer: says, target }, authority);
  }
  if (!settings.allowedPorts.has(authority.port)) {
    return refuse(
      { kind: 'forbidden-port', detail: `Target port (${authority.port}) of host (${authority.host}) is forbidden`, answer: `Target port (${authority.port}) is forbidden; allowed: ${[...settings.allowedPorts].join(', ')}`, target },
      authority,
    );
  }
  return { verdict: 'accept', authority };
}

/** The refusal for a head that could not be read (malformed, too large, too slow); undefined when the client just left. */
export function refusalForHead(failure: HeadFailure): Refusal | undefined {
  if (failure.kind === 'closed') return undefined;
  return { kind: failure.kind, detail: failure.reason, answer: `Bad request: ${failure.reason}` };
}

function badRequest(reason: string): Refusal {
  return { kind: 'malformed', detail: reason, answer: `Bad request: ${reason}` };
}

function refuse(refusal: Refusal, authority?: Authority): Judgement {
  return authority ? { verdict: 'refuse', refusal, authority } : { verdict: 'refuse', refusal };
}

function truncate(s: string, n = 200): string {
  return s.length > n ? s.slice(0, n) + '...' : s;
}
