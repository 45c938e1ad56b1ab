import type { TlsPolicy, TlsVersionName } from './types.js';

export const SSL3 = 0x0300;
export const TLS10 = 0x0301;
export const TLS11 = 0x0302;
export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

const NAMES: Record<number, string> = { [SSL3]: 'SSLv3', [TLS10]: 'TLSv1', [TLS11]: 'TLSv1.1', [TLS12]: 'TLSv1.2', [TLS13]: 'TLSv1.3' };
/** Every version a policy may name, lowest first (SSL is never accepted). */
export const TLS_VERSION_NAMES: readonly TlsVersionName[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const BY_NAME: Record<TlsVersionName, number> = { TLSv1: TLS10, 'TLSv1.1': TLS11, 'TLSv1.2': TLS12, 'TLSv1.3': TLS13 };

/** "TLSv1.2", or the wire value in hex for anything else (drafts, GREASE, garbage). */
export function versionName(version: number): string {
  return NAMES[version] ?? `0x${version.toString(16).padStart(4, '0')}`;
}

export function tlsVersionName(version: number): TlsVersionName | undefined {
  return version >= TLS10 && version <= TLS13 ? (NAMES[version] as TlsVersionName) : undefined;
}

export function versionNumber(name: TlsVersionName): number {
  return BY_NAME[name];
}

/** RFC 8701 GREASE values (0x0a0a, 0x1a1a, ... 0xfafa): clients list them to keep servers honest. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

/** Versions the policy accepts, lowest first. */
export function allowedVersions(policy: Pick<TlsPolicy, 'minVersion' | 'maxVersion'>): number[] {
  const versions: number[] = [];
  for (let v = BY_NAME[policy.minVersion] ?? TLS10; v <= (BY_NAME[policy.maxVersion] ?? TLS13); v++) versions.push(v);
  return versions;
}
