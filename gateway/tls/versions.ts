import type { TlsPolicy, TlsVersionName } from './types.js';

export const SSL3 = 0x0300;
export const TLS10 = 0x0301;
export const TLS11 = 0x0302;
export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

const NAMES: Record<number, string> = { [SSL3]: 'SSLv3', [TLS10]: 'TLSv1', [TLS11]: 'TLSv1.1', [TLS12]: 'TLSv1.2', [TLS13]: 'TLSv1.3' };
const BY_NAME: Record<TlsPolicy['minVersion'], number> = { TLSv1: TLS10, 'TLSv1.1': TLS11, 'TLSv1.2': TLS12 };

/** "TLSv1.2", or the wire value in hex for anything else (drafts, GREASE, garbage). */
export function versionName(version: number): string {
  return NAMES[version] ?? `0x${version.toString(16).padStart(4, '0')}`;
}

export function tlsVersionName(version: number): TlsVersionName | undefined {
  return version >= TLS10 && version <= TLS13 ? (NAMES[version] as TlsVersionName) : undefined;
}

/** RFC 8701 GREASE values (0x0a0a, 0x1a1a, ... 0xfafa): clients list them to keep servers honest. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

/** Versions the policy accepts, lowest first. */
export function allowedVersions(policy: TlsPolicy): number[] {
  const versions: number[] = [];
  for (let v = BY_NAME[policy.minVersion] ?? TLS10; v <= TLS12; v++) versions.push(v);
  if (policy.allowTls13) versions.push(TLS13);
  return versions;
}
