import { ALLOWED_CLIENT_CN, ALLOWLIST, SUFFIX } from './hosts.js';

export interface RoutePorts {
  cloudPort: number;
  echoPort: number;
  relayPort: number;
}

export function omsHostOf(workspaceId: string): string {
  return `${workspaceId}.oms.opinsights.azure.com`;
}

/** Hosts the gateway under test must allow: the suite's names and the workspace's OMS host (for the cloud route check). */
export function requiredAllowlist(workspaceId: string): string[] {
  return [...ALLOWLIST, omsHostOf(workspaceId)];
}

/** omsgw `--host-map` entries that send the suite's names to the echo upstream and Azure names to the fake cloud. */
export function omsgwHostMap(p: RoutePorts): string[] {
  return [`*.${SUFFIX}=127.0.0.1:${p.echoPort}`, `*.opinsights.azure.com=127.0.0.1:${p.cloudPort}`];
}

export function relayUrl(p: RoutePorts, relayAuth?: string): string {
  return `http://${relayAuth ? `${relayAuth}@` : ''}127.0.0.1:${p.relayPort}`;
}

export interface SquidConfigOptions {
  listenPort: number;
  /** Folder for squid's pid file and logs. */
  dir: string;
  /** The parent every request goes to (the suite's relay, or the fake cloud, which answers CONNECT too). */
  parentPort: number;
  /** Destination domains squid allows. */
  allowlist: string[];
  /** Credentials for the parent (cache_peer login=). */
  parentLogin?: string;
  headTimeoutSeconds?: number;
  idleTimeoutSeconds?: number;
  /** Require client credentials: an htpasswd-style file checked by squid's basic_ncsa_auth helper. */
  clientAuth?: { passwordFile: string; helper?: string };
}

/** Where Debian's squid package installs the NCSA (htpasswd file) Basic authentication helper. */
export const SQUID_NCSA_HELPER = '/usr/lib/squid/basic_ncsa_auth';

/** squid for the conformance suite: the relay as parent, the suite's allowlist. */
export function conformanceSquid(p: RoutePorts, workspaceId: string, relayAuth?: string): Pick<SquidConfigOptions, 'parentPort' | 'allowlist' | 'parentLogin'> {
  return { parentPort: p.relayPort, allowlist: requiredAllowlist(workspaceId), parentLogin: relayAuth };
}

/**
 * squid.conf for a squid standing in for an OMS gateway: an allowlist of destination domains, CONNECT
 * to port 443 only (squid's own SSL_ports rule), every request sent to the suite's relay as parent
 * (squid cannot resolve the lab names). What squid has no setting for (TLS inspection, the event
 * log) is what its graded table shows.
 */
export function squidConfig(o: SquidConfigOptions): string {
  const login = o.parentLogin ? ` login=${o.parentLogin}` : '';
  return [
    `http_port 127.0.0.1:${o.listenPort}`,
    `pid_filename ${o.dir}/squid.pid`,
    `cache_log ${o.dir}/cache.log`,
    `access_log stdio:${o.dir}/access.log squid`,
    'cache deny all',
    `coredump_dir ${o.dir}`,
    'visible_hostname omsgw-conformance-squid',
    'acl loopback_clients src 127.0.0.0/8 ::1',
    'acl SSL_ports port 443',
    'acl CONNECT method CONNECT',
    `acl oms_allowed dstdomain ${o.allowlist.join(' ')}`,
    ...(o.clientAuth
      ? [`auth_param basic program ${o.clientAuth.helper ?? SQUID_NCSA_HELPER} ${o.clientAuth.passwordFile}`, 'auth_param basic realm omsgw conformance', 'acl authed proxy_auth REQUIRED']
      : []),
    'http_access deny CONNECT !SSL_ports',
    `http_access allow loopback_clients oms_allowed${o.clientAuth ? ' authed' : ''}`,
    'http_access deny all',
    `cache_peer 127.0.0.1 parent ${o.parentPort} 0 no-query no-digest default name=omsgw_parent${login}`,
    'never_direct allow all',
    `request_timeout ${o.headTimeoutSeconds ?? 10} seconds`,
    `read_timeout ${o.idleTimeoutSeconds ?? 300} seconds`,
    'shutdown_lifetime 0 seconds',
    '',
  ].join('\n');
}

export interface TinyproxyConfigOptions {
  listenPort: number;
  /** Folder for the filter file, log and pid file. */
  dir: string;
  /** The upstream every CONNECT goes to (the suite's relay). */
  upstreamPort: number;
  /** Destination hosts tinyproxy allows: written as anchored extended regexes to `<dir>/filter`. */
  allowlist: string[];
  /** Credentials for the upstream (`Upstream http user:pass@host:port`). */
  upstreamLogin?: string;
  /** Credentials tinyproxy requires from clients (`BasicAuth user password`). */
  basicAuth?: string;
  /** `Timeout`: tinyproxy's one inactivity limit, for an incomplete head and an idle tunnel alike. */
  timeoutSeconds?: number;
  /** `User`/`Group` to drop to when started as root (tinyproxy must then write its log in `dir`). */
  runAs?: { user: string; group: string };
}

/** One filter rule per allowed host: anchored at both ends, so neither sub-domains nor longer names match. */
export function tinyproxyFilter(hosts: string[]): string {
  return `${hosts.map((h) => `^${h.replace(/[.[\]\\()*+?{}|^$]/g, '\\$&')}$`).join('\n')}\n`;
}

/**
 * tinyproxy.conf (tinyproxy 1.11, tinyproxy.conf(5)) for a tinyproxy standing in for an OMS gateway:
 * CONNECT to 443 only (`ConnectPort 443`), a host allowlist (`Filter` with `FilterDefaultDeny Yes`,
 * `FilterType ere`; matching is case-insensitive by default), every request sent to the suite's relay
 * (`Upstream http`), clients from loopback only. `Allow 127.0.0.0/8` rather than 127.0.0.1: each
 * section connects from its own loopback source address.
 */
export function tinyproxyConfig(o: TinyproxyConfigOptions): string {
  const [user, pass] = o.basicAuth ? [o.basicAuth.slice(0, o.basicAuth.indexOf(':')), o.basicAuth.slice(o.basicAuth.indexOf(':') + 1)] : [];
  return [
    ...(o.runAs ? [`User ${o.runAs.user}`, `Group ${o.runAs.group}`] : []),
    `Port ${o.listenPort}`,
    'Listen 127.0.0.1',
    `Timeout ${o.timeoutSeconds ?? 300}`,
    'Allow 127.0.0.0/8',
    'ConnectPort 443',
    `Filter "${o.dir}/filter"`,
    'FilterType ere',
    'FilterDefaultDeny Yes',
    `Upstream http ${o.upstreamLogin ? `${o.upstreamLogin}@` : ''}127.0.0.1:${o.upstreamPort}`,
    ...(o.basicAuth ? [`BasicAuth ${user} ${pass}`] : []),
    `LogFile "${o.dir}/tinyproxy.log"`,
    'LogLevel Info',
    `PidFile "${o.dir}/tinyproxy.pid"`,
    '',
  ].join('\n');
}

/** The text printed before a run: what the gateway under test must be configured with. */
export function describeRoute(p: RoutePorts, workspaceId: string, relayAuth?: string): string {
  const hosts = requiredAllowlist(workspaceId);
  const squid = squidConfig({ listenPort: 3128, dir: '/var/run/squid-conformance', ...conformanceSquid(p, workspaceId, relayAuth) })
    .split('\n')
    .filter((l) => /^(acl |http_access|cache_peer|never_direct)/.test(l));
  const tiny = tinyproxyConfig({ listenPort: 8888, dir: '/etc/tinyproxy', upstreamPort: p.relayPort, allowlist: hosts, upstreamLogin: relayAuth })
    .split('\n')
    .filter((l) => /^(ConnectPort|Filter|Upstream|Allow)/.test(l));
  return [
    'The gateway under test needs this route to the suite\'s upstreams:',
    `  fake cloud ${`127.0.0.1:${p.cloudPort}`}   echo upstream 127.0.0.1:${p.echoPort}   relay (CONNECT) ${relayUrl(p, relayAuth)}`,
    `  server allowlist: ${hosts.join(' ')}`,
    `  client certificate allowlist: CN=${ALLOWED_CLIENT_CN}`,
    '',
    '  omsgw (host map):',
    `    omsgw gateway --config gateway.json --allowlist allowlist.txt --client-allowlist clients.txt ${omsgwHostMap(p).map((h) => `--host-map '${h}'`).join(' ')}`,
    `    (allowlist.txt: the hosts above, one per line; clients.txt: CN=${ALLOWED_CLIENT_CN};`,
    '     gateway.json: {"tls": {"tls13ClientCertificate": "allow"}} so TLS 1.3, whose client certificate is encrypted, is not refused for it)',
    `  omsgw (relay): the same with --relay-proxy ${relayUrl(p, relayAuth)} instead of the --host-map flags`,
    '  squid (squid.conf):',
    ...squid.map((l) => `    ${l}`),
    '  tinyproxy (tinyproxy.conf; filter: one anchored rule per host above, e.g. ^allowed\\.conformance\\.test$):',
    ...tiny.map((l) => `    ${l}`),
    `  any other proxy: chain it to ${relayUrl(p, relayAuth)} (it answers CONNECT) and allow the hosts above`,
    '',
  ].join('\n');
}
