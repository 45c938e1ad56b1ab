/**
 * The hostile-input table: requests a forward proxy on a network boundary must refuse, each with
 * the refusal it must produce. Expectations come from what a secure CONNECT-only proxy must do,
 * written against the gateway's documented refusal table (docs/gateway.md, gateway/statuses.ts)
 * but deliberately NOT imported from it: the suite checks the gateway, it does not mirror it.
 *
 * Every refusal must leave the upstream untouched: no TCP connection opened to any upstream.
 */
import { u16, u24 } from '../lib/wire-bytes.js';

/** The host every test gateway allows exactly, and the wildcard entry it allows. */
export const ALLOWED_HOST = 'abc123.oms.opinsights.azure.com';
export const WILDCARD_ENTRY = '*.blob.core.windows.net';
export const ALLOWED_HOSTS = [ALLOWED_HOST, WILDCARD_ENTRY];
/** Credentials of the gateway variant that requires proxy authentication. */
export const PROXY_USER = 'agent';
export const PROXY_PASSWORD = 'S3cret-proxy-pw!';

export type RefusalKindName =
  | 'malformed'
  | 'head-too-large'
  | 'header-timeout'
  | 'not-connect'
  | 'proxy-auth-required'
  | 'forbidden-host'
  | 'forbidden-port'
  | 'private-upstream';

export interface ExpectedRefusal {
  status: number;
  /** Event ids that must be logged for the connection, in this order (103 may precede them). */
  events: number[];
  /** Exact change of these counters across the case. */
  counterDeltas: { rejectionCount: number; errorCount: number; tunnelsTotal: number };
  upstreamConnections: 0;
}

/** What each refusal looks like from outside: status line, event, counters (the documented table). */
export const EXPECTED_REFUSALS: Record<RefusalKindName, ExpectedRefusal> = {
  malformed: { status: 400, events: [104], counterDeltas: { rejectionCount: 0, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
  'head-too-large': { status: 431, events: [104], counterDeltas: { rejectionCount: 0, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
  'header-timeout': { status: 408, events: [104], counterDeltas: { rejectionCount: 0, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
  'not-connect': { status: 405, events: [104], counterDeltas: { rejectionCount: 0, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
  'proxy-auth-required': { status: 407, events: [104], counterDeltas: { rejectionCount: 0, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
  'forbidden-host': { status: 403, events: [105], counterDeltas: { rejectionCount: 1, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
  'forbidden-port': { status: 403, events: [105], counterDeltas: { rejectionCount: 1, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
  'private-upstream': { status: 403, events: [105], counterDeltas: { rejectionCount: 1, errorCount: 0, tunnelsTotal: 0 }, upstreamConnections: 0 },
};

export type HostileCategory =
  | 'protocol'
  | 'injection'
  | 'oversize'
  | 'target-host'
  | 'ip-literal'
  | 'port'
  | 'headers'
  | 'proxy-auth';

export interface HostileCase {
  id: string;
  category: HostileCategory;
  description: string;
  /** Which test gateway receives it: 'open' (no proxy auth) or 'auth' (Basic auth required). */
  gateway: 'open' | 'auth';
  /** The exact bytes written to the proxy port, in one write. */
  request: Buffer;
  /**
   * The refusal the gateway must give. Where two refusals are equally secure and the HTTP
   * specifications allow either (e.g. "2130706433" is both a malformed name and not an allowed
   * one), both are listed; the observation must then match one of them completely.
   */
  refusal: RefusalKindName | RefusalKindName[];
  /** Why this case is hostile, in one line, for the report. */
  why?: string;
}

const A = ALLOWED_HOST;
const CRLF = '\r\n';

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function basic(user: string, pass: string): string {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
}

/** `CONNECT <target> HTTP/1.1` with Host: <target> and any extra header lines. */
function connect(target: string, extra: string[] = [], host: string | null = target): string {
  const headers = [...(host === null ? [] : [`Host: ${host}`]), ...extra];
  return `CONNECT ${target} HTTP/1.1${CRLF}${headers.map((h) => h + CRLF).join('')}${CRLF}`;
}

const AUTH_OK = `Proxy-Authorization: ${basic(PROXY_USER, PROXY_PASSWORD)}`;

/** A well-formed TLS 1.2 ClientHello record with an SNI extension, as an agent would send inside a tunnel. */
export function clientHello(sni: string): Buffer {
  const name = Buffer.from(sni, 'ascii');
  const serverName = Buffer.concat([Buffer.from([0x00]), u16(name.length), name]);
  const sniExt = Buffer.concat([u16(0x0000), u16(serverName.length + 2), u16(serverName.length), serverName]);
  const extensions = Buffer.concat([sniExt]);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // client_version TLS 1.2
    Buffer.alloc(32, 0x42), // random
    Buffer.from([0x00]), // session id length
    u16(4),
    Buffer.from([0xc0, 0x2f, 0x00, 0x9c]), // two cipher suites
    Buffer.from([0x01, 0x00]), // compression: null
    u16(extensions.length),
    extensions,
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

const M: RefusalKindName = 'malformed';
const FH: RefusalKindName = 'forbidden-host';
const FP: RefusalKindName = 'forbidden-port';
const NAME_OR_HOST: RefusalKindName[] = [M, FH];
const NAME_OR_PORT: RefusalKindName[] = [M, FP];

const cases: HostileCase[] = [];
function add(c: Omit<HostileCase, 'gateway'> & { gateway?: 'open' | 'auth' }): void {
  cases.push({ gateway: 'open', ...c });
}

// --- protocol: not HTTP, not CONNECT, wrong versions -------------------------------------------
add({ id: 'http09-get', category: 'protocol', description: 'HTTP/0.9 request line without a version', request: bytes(`GET /${CRLF}${CRLF}`), refusal: [M, 'not-connect'] });
add({ id: 'tls-clienthello-to-proxy-port', category: 'protocol', description: 'a TLS ClientHello sent straight to the proxy port', request: clientHello(A), refusal: [M, 'header-timeout'], why: 'a client configured for HTTPS instead of a proxy; 0x16 is not a method character, so 400 at once is best, 408 after the header timeout is acceptable' });
add({ id: 'binary-garbage', category: 'protocol', description: 'random binary bytes and a blank line', request: Buffer.concat([Buffer.from([0x8f, 0xff, 0x01, 0xfe, 0x7f, 0x80, 0x00, 0x13, 0x37]), bytes(CRLF + CRLF)]), refusal: M });
add({ id: 'nul-only', category: 'protocol', description: 'a request line of NUL bytes', request: Buffer.concat([Buffer.alloc(16, 0), bytes(CRLF + CRLF)]), refusal: M });
add({ id: 'lowercase-method', category: 'protocol', description: 'method "connect" in lower case (methods are case-sensitive)', request: bytes(connect(`${A}:443`).replace('CONNECT', 'connect')), refusal: [M, 'not-connect'] });
add({ id: 'get-absolute-form', category: 'protocol', description: 'plain-HTTP forward proxy request GET http://allowed/', request: bytes(`GET http://${A}/ HTTP/1.1${CRLF}Host: ${A}${CRLF}${CRLF}`), refusal: 'not-connect' });
add({ id: 'post-absolute-form', category: 'protocol', description: 'POST through the proxy with a body', request: bytes(`POST http://${A}/OperationalData.svc/PostJsonDataItems HTTP/1.1${CRLF}Host: ${A}${CRLF}Content-Length: 2${CRLF}${CRLF}{}`), refusal: 'not-connect' });
add({ id: 'head-method', category: 'protocol', description: 'HEAD origin-form', request: bytes(`HEAD / HTTP/1.1${CRLF}Host: ${A}${CRLF}${CRLF}`), refusal: 'not-connect' });
add({ id: 'options-star', category: 'protocol', description: 'OPTIONS *', request: bytes(`OPTIONS * HTTP/1.1${CRLF}Host: ${A}${CRLF}${CRLF}`), refusal: 'not-connect' });
add({ id: 'trace-method', category: 'protocol', description: 'TRACE (cross-site tracing)', request: bytes(`TRACE / HTTP/1.1${CRLF}Host: ${A}${CRLF}${CRLF}`), refusal: 'not-connect' });
add({ id: 'h2-preface', category: 'protocol', description: 'HTTP/2 connection preface (prior knowledge)', request: bytes(`PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`), refusal: [M, 'not-connect'] });
add({ id: 'connect-no-version', category: 'protocol', description: 'CONNECT without an HTTP version', request: bytes(`CONNECT ${A}:443${CRLF}Host: ${A}:443${CRLF}${CRLF}`), refusal: M });
add({ id: 'connect-http2-version', category: 'protocol', description: 'CONNECT with version HTTP/2.0 in an HTTP/1 request line', request: bytes(connect(`${A}:443`).replace('HTTP/1.1', 'HTTP/2.0')), refusal: M });
add({ id: 'connect-bad-version', category: 'protocol', description: 'version token "HTTP/1.1x"', request: bytes(connect(`${A}:443`).replace('HTTP/1.1', 'HTTP/1.1x')), refusal: M });
add({ id: 'connect-lowercase-version', category: 'protocol', description: 'version token "http/1.1" (case-sensitive)', request: bytes(connect(`${A}:443`).replace('HTTP/1.1', 'http/1.1')), refusal: M });
add({ id: 'request-line-extra-token', category: 'protocol', description: 'a fourth token on the request line', request: bytes(connect(`${A}:443`).replace('HTTP/1.1', 'HTTP/1.1 extra')), refusal: M });
add({ id: 'request-line-double-space', category: 'protocol', description: 'two spaces between method and target', request: bytes(connect(`${A}:443`).replace('CONNECT ', 'CONNECT  ')), refusal: M });
add({ id: 'request-line-tab', category: 'protocol', description: 'tab instead of space between method and target', request: bytes(connect(`${A}:443`).replace('CONNECT ', 'CONNECT\t')), refusal: M });
add({ id: 'connect-absolute-uri', category: 'protocol', description: 'CONNECT with an https:// URI instead of host:port', request: bytes(connect(`https://${A}:443/`, [], `${A}:443`)), refusal: M });

// --- injection: CR, LF, NUL where they must never be --------------------------------------------
add({ id: 'crlf-in-target', category: 'injection', description: 'CRLF inside the target splits the request line', request: bytes(`CONNECT ${A}:443${CRLF}X-Injected: 1 HTTP/1.1${CRLF}Host: ${A}:443${CRLF}${CRLF}`), refusal: M });
add({ id: 'bare-cr-in-request-line', category: 'injection', description: 'bare CR before the version', request: bytes(`CONNECT ${A}:443\r HTTP/1.1${CRLF}Host: ${A}:443${CRLF}${CRLF}`), refusal: M });
add({ id: 'bare-lf-in-target', category: 'injection', description: 'bare LF inside the host name', request: bytes(`CONNECT ${A}\n.evil.example:443 HTTP/1.1${CRLF}Host: ${A}:443${CRLF}${CRLF}`), refusal: M });
add({ id: 'nul-in-host', category: 'injection', description: 'NUL truncation: allowed.host\\0.evil.example', request: bytes(connect(`${A}\0.evil.example:443`, [], `${A}:443`)), refusal: M, why: 'a C-string consumer would see only the allowed name' });
add({ id: 'nul-in-header-value', category: 'injection', description: 'NUL inside a header value', request: bytes(connect(`${A}:443`, ['User-Agent: agent\0evil'])), refusal: M });
add({ id: 'nul-in-header-name', category: 'injection', description: 'NUL inside a header name', request: bytes(connect(`${A}:443`, ['X-Na\0me: 1'])), refusal: M });
add({ id: 'bare-cr-in-header', category: 'injection', description: 'bare CR smuggling a second header line', request: bytes(connect(`${A}:443`, ['X-Note: a\rProxy-Authorization: Basic Zm9vOmJhcg=='])), refusal: M });
add({ id: 'header-without-colon', category: 'injection', description: 'a header line with no colon', request: bytes(connect(`${A}:443`, ['this is not a header'])), refusal: M });
add({ id: 'space-before-colon', category: 'injection', description: '"Host : x" (whitespace before the colon must be rejected, RFC 9112 5.1)', request: bytes(connect(`${A}:443`, [], null).replace(`${CRLF}${CRLF}`, `${CRLF}Host : ${A}:443${CRLF}${CRLF}`)), refusal: M });
add({ id: 'space-in-header-name', category: 'injection', description: 'header name containing a space', request: bytes(connect(`${A}:443`, ['Bad Name: 1'])), refusal: M });
add({ id: 'utf8-idn-host', category: 'injection', description: 'raw UTF-8 homograph (Cyrillic a) of the allowed host', request: utf8(connect(`аbc123.oms.opinsights.azure.com:443`)), refusal: NAME_OR_HOST });
add({ id: 'ideographic-full-stop', category: 'injection', description: 'U+3002 in place of a dot (IDNA would map it to ".")', request: utf8(connect(`abc123。oms.opinsights.azure.com:443`)), refusal: NAME_OR_HOST });
add({ id: 'percent-encoded-dot', category: 'injection', description: 'percent-encoded dot after an allowed suffix', request: bytes(connect(`x.blob.core.windows.net%2eevil.example:443`)), refusal: NAME_OR_HOST });

// --- oversize: lines and heads beyond any sane limit ---------------------------------------------
add({ id: 'long-request-line', category: 'oversize', description: '64 KiB request target', request: bytes(connect(`${'a'.repeat(65536)}.${A}:443`, [], `${A}:443`)), refusal: ['head-too-large'] });
add({ id: 'long-header-value', category: 'oversize', description: 'one 64 KiB header value', request: bytes(connect(`${A}:443`, [`X-Big: ${'b'.repeat(65536)}`])), refusal: 'head-too-large' });
add({ id: 'many-headers', category: 'oversize', description: '5000 small headers (~100 KiB head)', request: bytes(connect(`${A}:443`, Array.from({ length: 5000 }, (_, i) => `X-H${i}: ${i}`))), refusal: 'head-too-large' });
add({ id: 'endless-header-line', category: 'oversize', description: '96 KiB with no line end at all', request: bytes(`CONNECT ${A}:443 HTTP/1.1${CRLF}X-Endless: ${'c'.repeat(96 * 1024)}`), refusal: 'head-too-large' });
add({ id: 'hostname-over-253', category: 'oversize', description: 'host name of 300 characters (DNS limit 253)', request: bytes(connect(`${Array.from({ length: 5 }, () => 'd'.repeat(59)).join('.')}.${A}:443`)), refusal: NAME_OR_HOST });
add({ id: 'label-over-63', category: 'oversize', description: 'a 64-character DNS label', request: bytes(connect(`${'e'.repeat(64)}.blob.core.windows.net:443`)), refusal: NAME_OR_HOST, why: 'would match *.blob.core.windows.net if labels were not checked' });

// --- target host: look-alikes of allowed names ---------------------------------------------------
add({ id: 'port-then-userinfo', category: 'target-host', description: 'CONNECT allowed.host:443@evil.example', request: bytes(connect(`${A}:443@evil.example`)), refusal: [M, FP, FH] });
add({ id: 'userinfo-before-host', category: 'target-host', description: 'CONNECT evil.example@allowed.host:443', request: bytes(connect(`evil.example@${A}:443`)), refusal: NAME_OR_HOST });
add({ id: 'allowed-as-prefix', category: 'target-host', description: 'allowed.host.evil.example', request: bytes(connect(`${A}.evil.example:443`)), refusal: FH });
add({ id: 'path-after-evil', category: 'target-host', description: 'evil.example/allowed.host', request: bytes(connect(`evil.example/${A}:443`)), refusal: NAME_OR_HOST });
add({ id: 'forbidden-trailing-dot', category: 'target-host', description: 'evil.example. (a trailing dot does not launder a forbidden name)', request: bytes(connect(`evil.example.:443`)), refusal: FH });
add({ id: 'allowed-prefix-trailing-dot', category: 'target-host', description: 'allowed.host.evil.example. (trailing dot on a look-alike)', request: bytes(connect(`${A}.evil.example.:443`)), refusal: FH });
add({ id: 'double-trailing-dot', category: 'target-host', description: 'allowed.host..', request: bytes(connect(`${A}..:443`)), refusal: NAME_OR_HOST });
add({ id: 'leading-dot', category: 'target-host', description: '.allowed.host', request: bytes(connect(`.${A}:443`)), refusal: NAME_OR_HOST });
add({ id: 'allowed-as-suffix-no-dot', category: 'target-host', description: 'xallowed.host (suffix match without a label boundary)', request: bytes(connect(`x${A}:443`)), refusal: FH });
add({ id: 'parent-of-allowed', category: 'target-host', description: 'oms.opinsights.azure.com (parent domain of an exact entry)', request: bytes(connect(`oms.opinsights.azure.com:443`)), refusal: FH });
add({ id: 'wildcard-bare-suffix', category: 'target-host', description: 'blob.core.windows.net (the wildcard entry must not match its own suffix)', request: bytes(connect(`blob.core.windows.net:443`)), refusal: FH });
add({ id: 'wildcard-suffix-then-evil', category: 'target-host', description: 'x.blob.core.windows.net.evil.example', request: bytes(connect(`x.blob.core.windows.net.evil.example:443`)), refusal: FH });
add({ id: 'wildcard-no-label-boundary', category: 'target-host', description: 'evilblob.core.windows.net', request: bytes(connect(`evilblob.core.windows.net:443`)), refusal: FH });
add({ id: 'literal-star-host', category: 'target-host', description: 'the wildcard entry itself as a host: *.blob.core.windows.net', request: bytes(connect(`*.blob.core.windows.net:443`)), refusal: NAME_OR_HOST });
add({ id: 'punycode-homograph', category: 'target-host', description: 'punycode of the Cyrillic homograph: xn--bc123-3ve.oms.opinsights.azure.com', request: bytes(connect(`xn--bc123-3ve.oms.opinsights.azure.com:443`)), refusal: FH });
add({ id: 'bracketed-name', category: 'target-host', description: '[allowed.host]:443 (brackets are for IPv6 only)', request: bytes(connect(`[${A}]:443`)), refusal: NAME_OR_HOST });
add({ id: 'unlisted-host', category: 'target-host', description: 'the Linux agent-service host of the 2016 story, not in the allowlist', request: bytes(connect(`scus-agentservice-prod-1.azure-automation.net:443`)), refusal: FH });

// --- IP literals: none is in the allowlist, whatever its spelling --------------------------------
const ipLiterals: Array<[string, string, RefusalKindName | RefusalKindName[]]> = [
  ['ipv4-loopback', '127.0.0.1', FH],
  ['ipv4-decimal', '2130706433', NAME_OR_HOST],
  ['ipv4-octal', '0177.0.0.1', NAME_OR_HOST],
  ['ipv4-hex-dotted', '0x7f.0.0.1', NAME_OR_HOST],
  ['ipv4-hex-integer', '0x7f000001', NAME_OR_HOST],
  ['ipv4-short-form', '127.1', NAME_OR_HOST],
  ['ipv4-any', '0.0.0.0', FH],
  ['ipv4-private', '10.0.0.1', FH],
  ['ipv4-link-local-metadata', '169.254.169.254', FH],
  ['ipv6-loopback', '[::1]', NAME_OR_HOST],
  ['ipv6-v4-mapped-dotted', '[::ffff:127.0.0.1]', NAME_OR_HOST],
  ['ipv6-v4-mapped-hex', '[::ffff:7f00:1]', NAME_OR_HOST],
  ['ipv6-unbracketed', '::1', NAME_OR_HOST],
  ['ipv6-zone-id', '[fe80::1%25lo]', NAME_OR_HOST],
];
for (const [id, ip, refusal] of ipLiterals) {
  add({ id, category: 'ip-literal', description: `CONNECT ${ip}:443`, request: bytes(connect(`${ip}:443`)), refusal });
}

// --- ports: only 443, spelt as a plain decimal ---------------------------------------------------
const ports: Array<[string, string, RefusalKindName | RefusalKindName[]]> = [
  ['port-zero', '0', NAME_OR_PORT],
  ['port-65536', '65536', NAME_OR_PORT],
  ['port-443abc', '443abc', NAME_OR_PORT],
  ['port-80', '80', FP],
  ['port-8443', '8443', FP],
  ['port-empty', '', NAME_OR_PORT],
  ['port-negative', '-443', NAME_OR_PORT],
  ['port-plus-sign', '+443', NAME_OR_PORT],
  ['port-twice', '443:443', NAME_OR_PORT],
  ['port-huge', '99999999999999999999443', NAME_OR_PORT],
  ['port-hex', '0x1bb', NAME_OR_PORT],
  ['port-exponent', '4.43e2', NAME_OR_PORT],
];
for (const [id, port, refusal] of ports) {
  add({ id, category: 'port', description: `CONNECT allowed.host:${port}`, request: bytes(connect(`${A}:${port}`)), refusal });
}
add({ id: 'port-missing', category: 'port', description: 'CONNECT allowed.host (no port; authority-form requires one)', request: bytes(connect(A)), refusal: NAME_OR_PORT });

// --- duplicate or conflicting headers ------------------------------------------------------------
add({ id: 'duplicate-host', category: 'headers', description: 'two Host headers (RFC 9112 3.2: must answer 400)', request: bytes(connect(`${A}:443`, [`Host: ${A}:443`])), refusal: M });
add({ id: 'content-length-with-connect', category: 'headers', description: 'Content-Length: 5 and 5 body bytes on a CONNECT', request: bytes(connect(`${A}:443`, ['Content-Length: 5']) + 'hello'), refusal: M, why: 'RFC 9110 9.3.6: CONNECT has no content; a declared body is a framing conflict (desync) and would be forwarded into the tunnel as if the client had sent it after the 200' });
add({ id: 'transfer-encoding-with-connect', category: 'headers', description: 'Transfer-Encoding: chunked on a CONNECT', request: bytes(connect(`${A}:443`, ['Transfer-Encoding: chunked']) + `5${CRLF}hello${CRLF}0${CRLF}${CRLF}`), refusal: M, why: 'as above: request framing on a method without content' });
add({ id: 'duplicate-content-length', category: 'headers', description: 'two different Content-Length values (RFC 9112 6.3: unrecoverable error)', request: bytes(connect(`${A}:443`, ['Content-Length: 0', 'Content-Length: 5']) + 'hello'), refusal: M });

// --- proxy authentication required ---------------------------------------------------------------
add({ id: 'auth-missing', category: 'proxy-auth', gateway: 'auth', description: 'no Proxy-Authorization when it is required', request: bytes(connect(`${A}:443`)), refusal: 'proxy-auth-required' });
add({ id: 'auth-wrong-password', category: 'proxy-auth', gateway: 'auth', description: 'wrong password', request: bytes(connect(`${A}:443`, [`Proxy-Authorization: ${basic(PROXY_USER, 'wrong')}`])), refusal: 'proxy-auth-required' });
add({ id: 'auth-bad-base64', category: 'proxy-auth', gateway: 'auth', description: 'Basic with invalid base64', request: bytes(connect(`${A}:443`, ['Proxy-Authorization: Basic !!!not-base64!!!'])), refusal: ['proxy-auth-required', M] });
add({ id: 'auth-bearer-scheme', category: 'proxy-auth', gateway: 'auth', description: 'Bearer scheme instead of Basic', request: bytes(connect(`${A}:443`, ['Proxy-Authorization: Bearer abc.def.ghi'])), refusal: 'proxy-auth-required' });
add({ id: 'auth-duplicate-good-and-bad', category: 'proxy-auth', gateway: 'auth', description: 'a good and a bad Proxy-Authorization', request: bytes(connect(`${A}:443`, [`Proxy-Authorization: ${basic(PROXY_USER, 'wrong')}`, AUTH_OK])), refusal: [M, 'proxy-auth-required'] });
add({ id: 'auth-duplicate-bad-after-good', category: 'proxy-auth', gateway: 'auth', description: 'a good then a bad Proxy-Authorization (first-wins parsing must not authenticate)', request: bytes(connect(`${A}:443`, [AUTH_OK, `Proxy-Authorization: ${basic('other', 'x')}`])), refusal: [M, 'proxy-auth-required'] });
add({ id: 'auth-valid-forbidden-host', category: 'proxy-auth', gateway: 'auth', description: 'valid credentials do not open a forbidden host', request: bytes(connect(`evil.example:443`, [AUTH_OK])), refusal: FH });

/** The table, in a stable order. Ids are unique. */
export const HOSTILE_CASES: readonly HostileCase[] = cases;

/** The refusal kinds a case accepts. */
export function acceptedRefusals(c: HostileCase): RefusalKindName[] {
  return Array.isArray(c.refusal) ? c.refusal : [c.refusal];
}

/** Positive controls: requests that must succeed, proving the counting upstream sees real tunnels. */
export const ALLOWED_CONTROLS: ReadonlyArray<{ id: string; description: string; gateway: 'open' | 'auth'; request: Buffer }> = [
  { id: 'control-exact', description: 'CONNECT allowed.host:443', gateway: 'open', request: bytes(connect(`${A}:443`)) },
  { id: 'control-upper-case', description: 'CONNECT ALLOWED.HOST:443 (host names are case-insensitive)', gateway: 'open', request: bytes(connect(`${A.toUpperCase()}:443`)) },
  // One trailing dot names the same fully-qualified host; the gateway documents that it strips it,
  // so it must route exactly like the undotted name (to the host-mapped upstream, not elsewhere).
  { id: 'control-trailing-dot', description: 'CONNECT allowed.host.:443 (absolute FQDN, same host)', gateway: 'open', request: bytes(connect(`${A}.:443`)) },
  { id: 'control-wildcard', description: 'CONNECT x.blob.core.windows.net:443 (wildcard entry)', gateway: 'open', request: bytes(connect(`x.blob.core.windows.net:443`)) },
  { id: 'control-auth', description: 'CONNECT with valid Proxy-Authorization', gateway: 'auth', request: bytes(connect(`${A}:443`, [AUTH_OK])) },
];
