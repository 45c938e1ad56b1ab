import { InputError } from '../../lib/errors.js';
import type { TlsPolicy } from './types.js';

/**
 * The real gateway's behaviour: TLS 1.0 to 1.2, SNI must name the CONNECT host, no opinion when a
 * client sends no SNI (old agents and IP literals send none) and no opinion when a client answers a
 * certificate request with an empty Certificate: the server decides whether that is acceptable; the
 * gateway only filters certificates that are actually presented.
 *
 * maxBufferBytes: the inspector keeps only the ClientHello, the ServerHello and the client's
 * Certificate message (the server's own certificate chain is skipped, not buffered). 64 KiB holds a
 * client chain of several RSA-4096 certificates with room to spare.
 */
export const DEFAULT_TLS_POLICY: Readonly<TlsPolicy> = Object.freeze({
  minVersion: 'TLSv1',
  allowTls13: false,
  requireSniMatch: true,
  missingSni: 'allow',
  missingClientCertificate: 'allow',
  inspectionTimeoutMs: 10_000,
  maxBufferBytes: 64 * 1024,
});

const MIN_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2'] as const;
const ALLOW_REJECT = ['allow', 'reject'] as const;
export const TLS_POLICY_LIMITS = Object.freeze({
  inspectionTimeoutMs: { min: 1, max: 600_000 },
  // Below ~2 KiB a modern ClientHello no longer fits; 16 MiB is the TLS handshake message limit.
  maxBufferBytes: { min: 2048, max: 16 * 1024 * 1024 },
});

type FieldCheck = (value: unknown, path: string) => unknown;

function oneOf<T extends string>(allowed: readonly T[]): FieldCheck {
  return (value, path) => {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value;
    throw new InputError(`${path}: must be one of ${allowed.map((a) => `"${a}"`).join(', ')} (got ${describe(value)})`);
  };
}

function bool(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new InputError(`${path}: must be true or false (got ${describe(value)})`);
}

function integerIn(min: number, max: number, unit: string): FieldCheck {
  return (value, path) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    throw new InputError(`${path}: must be an integer number of ${unit} from ${min} to ${max} (got ${describe(value)})`);
  };
}

const FIELDS: Record<keyof TlsPolicy, FieldCheck> = {
  minVersion: oneOf(MIN_VERSIONS),
  allowTls13: bool,
  requireSniMatch: bool,
  missingSni: oneOf(ALLOW_REJECT),
  missingClientCertificate: oneOf(ALLOW_REJECT),
  inspectionTimeoutMs: integerIn(TLS_POLICY_LIMITS.inspectionTimeoutMs.min, TLS_POLICY_LIMITS.inspectionTimeoutMs.max, 'milliseconds'),
  maxBufferBytes: integerIn(TLS_POLICY_LIMITS.maxBufferBytes.min, TLS_POLICY_LIMITS.maxBufferBytes.max, 'bytes'),
};

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  try {
    const json = JSON.stringify(value);
    return json.length > 60 ? `${json.slice(0, 60)}...` : json;
  } catch {
    return typeof value;
  }
}

/**
 * Validates a partial policy (e.g. the `tls` object of a config file or of PUT /api/config) and
 * fills the missing fields from `base` (the defaults unless given). `where` names the place in the
 * input for error messages, e.g. "config.tls".
 */
export function parseTlsPolicy(value: unknown, where: string, base: Readonly<TlsPolicy> = DEFAULT_TLS_POLICY): TlsPolicy {
  if (value === undefined || value === null) return { ...base };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${where}: must be an object with TLS policy fields (${Object.keys(FIELDS).join(', ')}), got ${describe(value)}`);
  }
  const result: TlsPolicy = { ...base };
  for (const [key, fieldValue] of Object.entries(value as Record<string, unknown>)) {
    const check = (FIELDS as Record<string, FieldCheck | undefined>)[key];
    if (!Object.prototype.hasOwnProperty.call(FIELDS, key) || !check) {
      throw new InputError(`${where}.${key}: unknown TLS policy field; allowed fields: ${Object.keys(FIELDS).join(', ')}`);
    }
    (result as unknown as Record<string, unknown>)[key] = check(fieldValue, `${where}.${key}`);
  }
  return result;
}
