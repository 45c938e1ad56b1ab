import { isIP } from 'node:net';
import { InputError } from '../../lib/errors.js';

/** True for 127.0.0.0/8, ::1 and the name localhost: the only places a load may go. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** Throws an InputError unless `host` is loopback; `what` names the flag or option for the message. */
export function assertLoopback(host: string, what: string): void {
  if (!isLoopbackHost(host)) {
    throw new InputError(`${what} must be a loopback address (127.0.0.0/8, ::1 or localhost), got "${host}": loads never leave this machine`);
  }
}

/**
 * A CONNECT target may be a hostname (the proxy maps it), but an IP literal must be loopback,
 * so the driver cannot be pointed at a real machine through an open proxy.
 */
export function assertTunnelTarget(host: string): void {
  if (isIP(host.replace(/^\[|\]$/g, '')) && !isLoopbackHost(host)) {
    throw new InputError(`CONNECT target ${host} is not a loopback address; use a hostname the proxy maps to loopback or a 127.x address`);
  }
}

/** Expands '127.0.1.0/24'-style ranges (or a comma list) into source addresses, all checked loopback. */
export function expandSourceRange(spec: string, limit = 65536): string[] {
  const out: string[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new InputError(`source address "${part}" is not an IPv4 address or CIDR range like 127.0.1.0/24`);
    const octets = m.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) throw new InputError(`source address "${part}" has an octet above 255`);
    const prefix = m[5] === undefined ? 32 : Number(m[5]);
    if (prefix < 8 || prefix > 32) throw new InputError(`source range "${part}" prefix must be between /8 and /32`);
    const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const size = 2 ** (32 - prefix);
    const start = (base & ~(size - 1)) >>> 0;
    // Skip the network and broadcast-looking ends of ranges wider than /31.
    const first = size > 2 ? 1 : 0;
    const last = size > 2 ? size - 2 : size - 1;
    for (let i = first; i <= last && out.length < limit; i++) {
      const v = (start + i) >>> 0;
      const ip = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
      assertLoopback(ip, 'source address');
      out.push(ip);
    }
  }
  if (out.length === 0) throw new InputError(`source range "${spec}" contains no addresses`);
  return out;
}
