import { isIPv4, isIPv6 } from 'node:net';

export interface Authority {
  /** Lower-case host without brackets and without a trailing dot. */
  host: string;
  port: number;
  kind: 'dns' | 'ipv4' | 'ipv6';
  /** `host:port` as it should be shown and matched (IPv6 in brackets). */
  display: string;
}

export class AuthorityError extends Error {}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
// Anything that would make the target more than a host and a port.
const FORBIDDEN = /[\x00-\x20\x7f@/?#\\%]/;

/**
 * Strict parsing of a CONNECT target (`host:port`): lower-cased, one trailing dot removed,
 * IPv6 only in brackets; userinfo, paths, spaces and control characters are refused.
 */
export function parseAuthority(target: string): Authority {
  if (target.length === 0) throw new AuthorityError('empty CONNECT target');
  if (target.length > 262) throw new AuthorityError('CONNECT target is too long');
  if (FORBIDDEN.test(target)) throw new AuthorityError(`CONNECT target ${JSON.stringify(target)} must be host:port only (no userinfo, path, spaces or control characters)`);
  let hostPart: string;
  let portPart: string;
  if (target.startsWith('[')) {
    const close = target.indexOf(']');
    if (close < 0 || target[close + 1] !== ':') throw new AuthorityError(`CONNECT target ${JSON.stringify(target)} must be [ipv6]:port`);
    hostPart = target.slice(1, close);
    portPart = target.slice(close + 2);
    if (!isIPv6(hostPart) || hostPart.includes('%')) throw new AuthorityError(`${JSON.stringify(hostPart)} is not an IPv6 address`);
  } else {
    const colon = target.lastIndexOf(':');
    if (colon < 0) throw new AuthorityError(`CONNECT target ${JSON.stringify(target)} has no port (expected host:port)`);
    hostPart = target.slice(0, colon);
    portPart = target.slice(colon + 1);
    if (hostPart.includes(':')) throw new AuthorityError(`CONNECT target ${JSON.stringify(target)}: IPv6 addresses must be in brackets`);
  }
  const port = parsePort(portPart, target);
  if (target.startsWith('[')) {
    const host = hostPart.toLowerCase();
    return { host, port, kind: 'ipv6', display: `[${host}]:${port}` };
  }
  let host = hostPart.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0) throw new AuthorityError(`CONNECT target ${JSON.stringify(target)} has an empty host`);
  if (host.length > 253) throw new AuthorityError('host name is longer than 253 characters');
  if (/^[0-9.]+$/.test(host)) {
    if (!isIPv4(host)) throw new AuthorityError(`${JSON.stringify(hostPart)} is not a valid IPv4 address`);
    return { host, port, kind: 'ipv4', display: `${host}:${port}` };
  }
  for (const label of host.split('.')) {
    if (!LABEL.test(label)) throw new AuthorityError(`${JSON.stringify(hostPart)} is not a valid host name`);
  }
  return { host, port, kind: 'dns', display: `${host}:${port}` };
}

function parsePort(text: string, target: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) throw new AuthorityError(`CONNECT target ${JSON.stringify(target)}: port must be 1-65535 in decimal digits`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new AuthorityError(`CONNECT target ${JSON.stringify(target)}: port ${port} is out of range 1-65535`);
  return port;
}
