import { isIPv4 } from 'node:net';

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:127.0.0.5` → `127.0.0.5`); any other
 * address unchanged. A dual-stack socket reports IPv4 peers in the mapped form; clients are named
 * and counted by the plain address.
 */
export function unmapIpv4(ip: string): string {
  const tail = ip.toLowerCase().startsWith('::ffff:') ? ip.slice(7) : '';
  return tail && isIPv4(tail) ? tail : ip;
}
