import { timingSafeEqual } from 'node:crypto';
import { ServerAllowlist } from './allowlist/server-allowlist.js';
import { HostMap } from './routes/host-map.js';
import type { RelayProxy } from './routes/relay.js';
import type { TlsPolicy } from './tls/types.js';

/**
 * The policy a new connection is judged by. Reload swaps the whole object, so a connection
 * in progress keeps the settings it started with.
 */
export interface LiveSettings {
  allowlist: ServerAllowlist;
  clientAllowlist: readonly string[];
  hostMap: HostMap;
  relay?: RelayProxy;
  proxyAuth?: ProxyCredentials;
  allowedPorts: ReadonlySet<number>;
  allowPrivateUpstream: boolean;
  tlsInspection: boolean;
  tlsPolicy: TlsPolicy;
}

export class ProxyCredentials {
  private readonly expected: Buffer;
  constructor(readonly user: string, password: string) {
    this.expected = Buffer.from(`Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
  }

  /** Compares a Proxy-Authorization header in constant time. */
  matches(header: string | undefined): boolean {
    if (!header) return false;
    const given = Buffer.from(header.trim().replace(/^basic /i, 'Basic '));
    return given.length === this.expected.length && timingSafeEqual(given, this.expected);
  }

  static parse(userPass: string): ProxyCredentials {
    const colon = userPass.indexOf(':');
    return new ProxyCredentials(userPass.slice(0, colon), userPass.slice(colon + 1));
  }
}

/** `Basic dXNlcjpwYXNz` → `Basic ****`; anything else → `****`. */
export function maskCredential(value: string): string {
  const m = /^(\S+)\s+\S/.exec(value.trim());
  return m ? `${m[1]} ****` : '****';
}
