import type { SecureVersion } from 'node:tls';
import { InputError } from '../lib/errors.js';

export type CloudTlsVersion = Extract<SecureVersion, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>;
export const CLOUD_TLS_VERSIONS: readonly CloudTlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export interface CloudTlsVersions {
  minVersion: CloudTlsVersion;
  maxVersion: CloudTlsVersion;
}

/**
 * What today's Azure endpoints negotiate: TLS 1.2 and 1.3 (Azure services run TLS 1.2-only by
 * default and retired TLS 1.0/1.1; clients on OpenSSL 3 or current .NET get TLS 1.3). The 2016
 * endpoints spoke at most TLS 1.2: `{ maxVersion: 'TLSv1.2' }` (docs/fake-cloud.md).
 */
export const DEFAULT_CLOUD_TLS: Readonly<CloudTlsVersions> = Object.freeze({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });

/** Fills and checks the cloud's TLS version range; `names` says how the caller spells the two fields (option keys or flags). */
export function resolveCloudTls(given: Partial<CloudTlsVersions> | undefined, names = { minVersion: 'tls.minVersion', maxVersion: 'tls.maxVersion' }): CloudTlsVersions {
  const out: CloudTlsVersions = { ...DEFAULT_CLOUD_TLS };
  for (const key of ['minVersion', 'maxVersion'] as const) {
    const v = given?.[key];
    if (v === undefined) continue;
    if (!(CLOUD_TLS_VERSIONS as readonly string[]).includes(v)) throw new InputError(`${names[key]} must be one of ${CLOUD_TLS_VERSIONS.join(', ')}, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  if (CLOUD_TLS_VERSIONS.indexOf(out.minVersion) > CLOUD_TLS_VERSIONS.indexOf(out.maxVersion)) {
    throw new InputError(
      `${names.minVersion} ${out.minVersion} is above ${names.maxVersion} ${out.maxVersion}${given?.maxVersion === undefined ? ' (the default)' : ''}${given?.minVersion === undefined ? ` (${names.minVersion} defaults to ${DEFAULT_CLOUD_TLS.minVersion})` : ''}; versions, lowest first: ${CLOUD_TLS_VERSIONS.join(', ')}`,
    );
  }
  return out;
}
