import { InputError } from '../../lib/errors.js';

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface BindRange {
  cidr: string;
  /** Usable source addresses, in order (network and broadcast addresses left out for prefixes up to /30). */
  addresses: string[];
}

/**
 * A loopback range for source addresses, e.g. 127.0.1.0/24 (254 addresses). Only 127.0.0.0/8 is
 * accepted: the simulators never bind anything else.
 */
export function parseBindRange(cidr: string): BindRange {
  const m = /^\s*([\d.]+)\/(\d{1,2})\s*$/.exec(cidr ?? '');
  if (!m) throw new InputError(`bind range "${cidr}" is not a CIDR block: write it as 127.0.1.0/24`);
  const base = ipToInt(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined) throw new InputError(`bind range "${cidr}": ${m[1]} is not an IPv4 address`);
  if (prefix < 8 || prefix > 32) throw new InputError(`bind range "${cidr}": the prefix length must be between 8 and 32`);
  if (base >>> 24 !== 127) throw new InputError(`bind range "${cidr}" is not on loopback: agents may only bind 127.0.0.0/8 addresses (e.g. 127.0.1.0/24)`);
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  if (network !== base) throw new InputError(`bind range "${cidr}" has host bits set: did you mean ${intToIp(network)}/${prefix}?`);
  const first = prefix <= 30 ? network + 1 : network;
  const last = prefix <= 30 ? network + size - 2 : network + size - 1;
  // Cap the list: a /8 would be 16M addresses; nobody runs that many agents.
  const count = Math.min(last - first + 1, 65_536);
  return { cidr: `${intToIp(network)}/${prefix}`, addresses: Array.from({ length: count }, (_, i) => intToIp(first + i)) };
}

/** Usable addresses in a range without listing them. */
export function bindRangeSize(cidr: string): number {
  const m = /\/(\d{1,2})\s*$/.exec(cidr);
  const prefix = Number(m?.[1]);
  const size = 2 ** (32 - prefix);
  return prefix <= 30 ? size - 2 : size;
}
