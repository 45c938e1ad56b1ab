import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { InputError } from '../../lib/errors.js';
import type { TlsPolicy, TlsPolicyName, TlsVersionName } from './types.js';
import { SSL3, TLS_VERSION_NAMES, tlsVersionName, versionName, versionNumber } from './versions.js';

/**
 * Named version ranges. "current": what the product's documentation says today (TLS 1.0 to 1.3,
 * no SSL). "preview-2016": the 2016 preview (TLS 1.0 to 1.2; the cloud endpoints spoke at most
 * TLS 1.2 then). Sources in docs/tls-inspection.md.
 */
export const TLS_POLICY_PRESETS: Readonly<Record<TlsPolicyName, Readonly<Pick<TlsPolicy, 'minVersion' | 'maxVersion'>>>> = Object.freeze({
  current: Object.freeze({ minVersion: 'TLSv1', maxVersion: 'TLSv1.3' }),
  'preview-2016': Object.freeze({ minVersion: 'TLSv1', maxVersion: 'TLSv1.2' }),
});
export const TLS_POLICY_NAMES = Object.keys(TLS_POLICY_PRESETS) as TlsPolicyName[];

/**
 * The current product: TLS 1.0 to 1.3, SNI must name the CONNECT host, no opinion when a client
 * sends no SNI (old agents and IP literals send none) and no opinion when a client answers a
 * certificate request with an empty Certificate: the server decides whether that is acceptable; the
 * gateway only filters certificates that are actually presented. A TLS 1.3 session cannot show its
 * client certificate, so with a client allowlist configured it is refused (fail closed).
 *
 * maxBufferBytes: the inspector keeps only the ClientHello, the ServerHello and the client's
 * Certificate message (the server's own certificate chain is skipped, not buffered). 64 KiB holds a
 * client chain of several RSA-4096 certificates with room to spare.
 */
export const DEFAULT_TLS_POLICY: Readonly<TlsPolicy> = Object.freeze({
  ...TLS_POLICY_PRESETS.current,
  tls13ClientCertificate: 'reject',
  requireSniMatch: true,
  missingSni: 'allow',
  missingClientCertificate: 'allow',
  inspectionTimeoutMs: 10_000,
  maxBufferBytes: 64 * 1024,
});

const ALLOW_REJECT = ['allow', 'reject'] as const;
export const TLS_POLICY_LIMITS = Object.freeze({
  inspectionTimeoutMs: { min: 1, max: 600_000 },
  // Below ~2 KiB a modern ClientHello no longer fits; 16 MiB is the TLS handshake message limit.
  maxBufferBytes: { min: 2048, max: 16 * 1024 * 1024 },
});

/**
 * The fields of a policy as a JSON Schema (one validation style: JSON Schema + ajv), typed against
 * TlsPolicy so the two cannot drift. Each field is checked on its own so that every message names
 * its field and keeps the gateway's wording: `config.tls.minVersion: must be one of ... (got ...)`.
 */
export const TLS_POLICY_SCHEMA: JSONSchemaType<TlsPolicy> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    minVersion: { type: 'string', enum: [...TLS_VERSION_NAMES] },
    maxVersion: { type: 'string', enum: [...TLS_VERSION_NAMES] },
    tls13ClientCertificate: { type: 'string', enum: [...ALLOW_REJECT] },
    requireSniMatch: { type: 'boolean' },
    missingSni: { type: 'string', enum: [...ALLOW_REJECT] },
    missingClientCertificate: { type: 'string', enum: [...ALLOW_REJECT] },
    inspectionTimeoutMs: { type: 'integer', minimum: TLS_POLICY_LIMITS.inspectionTimeoutMs.min, maximum: TLS_POLICY_LIMITS.inspectionTimeoutMs.max, description: 'milliseconds' },
    maxBufferBytes: { type: 'integer', minimum: TLS_POLICY_LIMITS.maxBufferBytes.min, maximum: TLS_POLICY_LIMITS.maxBufferBytes.max, description: 'bytes' },
  },
};

type FieldSchema = { type: 'string' | 'boolean' | 'integer'; enum?: readonly string[]; minimum?: number; maximum?: number; description?: string };
const FIELD_SCHEMAS = TLS_POLICY_SCHEMA.properties as unknown as Record<keyof TlsPolicy, FieldSchema>;
const ajv = new Ajv({ strict: true });
const FIELD_VALIDATORS = Object.fromEntries(Object.entries(FIELD_SCHEMAS).map(([k, schema]) => [k, ajv.compile(schema)])) as Record<keyof TlsPolicy, ValidateFunction>;

/** What a field must be, in the gateway's words. */
function expectation(schema: FieldSchema): string {
  if (schema.enum) return `must be one of ${schema.enum.map((a) => `"${a}"`).join(', ')}`;
  if (schema.type === 'boolean') return 'must be true or false';
  return `must be an integer number of ${schema.description} from ${schema.minimum} to ${schema.maximum}`;
}

function checkField(key: keyof TlsPolicy, value: unknown, path: string): unknown {
  if (FIELD_VALIDATORS[key](value)) return value;
  throw new InputError(`${path}: ${expectation(FIELD_SCHEMAS[key])} (got ${describe(value)})`);
}

const FIELDS = FIELD_SCHEMAS;
/** Every field a `tls` policy object may hold: `policy` (a preset) and the fields. */
export const TLS_POLICY_KEYS: readonly string[] = ['policy', ...Object.keys(FIELDS)];
const KNOWN_KEYS = TLS_POLICY_KEYS;

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

/** The preset a policy's version range equals, if any ("preview-2016" reads better than two versions). */
export function presetName(policy: Pick<TlsPolicy, 'minVersion' | 'maxVersion'>): TlsPolicyName | undefined {
  return TLS_POLICY_NAMES.find((n) => TLS_POLICY_PRESETS[n].minVersion === policy.minVersion && TLS_POLICY_PRESETS[n].maxVersion === policy.maxVersion);
}

function checkRange(policy: TlsPolicy, where: string): TlsPolicy {
  if (versionNumber(policy.minVersion) > versionNumber(policy.maxVersion)) {
    throw new InputError(
      `${where}: minVersion ${policy.minVersion} is above maxVersion ${policy.maxVersion}; versions, lowest first: ${TLS_VERSION_NAMES.join(', ')}`,
    );
  }
  return policy;
}

/**
 * Validates a partial policy (the `tls` object of gateway.json or of PUT /api/config) and fills the
 * missing fields from `base` (the defaults unless given). `policy` (a preset name) sets both version
 * bounds first; minVersion/maxVersion given alongside it win. `where` names the place in the input
 * for error messages, e.g. "config.tls".
 */
export function parseTlsPolicy(value: unknown, where: string, base: Readonly<TlsPolicy> = DEFAULT_TLS_POLICY): TlsPolicy {
  if (value === undefined || value === null) return { ...base };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${where}: must be an object with TLS policy fields (${KNOWN_KEYS.join(', ')}), got ${describe(value)}`);
  }
  const input = value as Record<string, unknown>;
  const result: TlsPolicy = { ...base };
  if (Object.prototype.hasOwnProperty.call(input, 'policy')) {
    if (!(TLS_POLICY_NAMES as readonly unknown[]).includes(input.policy)) {
      throw new InputError(`${where}.policy: must be one of ${TLS_POLICY_NAMES.map((a) => `"${a}"`).join(', ')} (got ${describe(input.policy)})`);
    }
    const name = input.policy as TlsPolicyName;
    Object.assign(result, TLS_POLICY_PRESETS[name]);
  }
  for (const [key, fieldValue] of Object.entries(input)) {
    if (key === 'policy') continue;
    if (key === 'allowTls13') {
      // Replaced, not aliased: "false" used to be the default and would now silently cap at TLS 1.2.
      throw new InputError(
        `${where}.allowTls13: replaced by maxVersion (TLS 1.3 is now allowed by default): write "maxVersion": "TLSv1.3" for true, or "policy": "preview-2016" (or "maxVersion": "TLSv1.2") for false`,
      );
    }
    if (!Object.prototype.hasOwnProperty.call(FIELDS, key)) {
      throw new InputError(`${where}.${key}: unknown TLS policy field; allowed fields: ${KNOWN_KEYS.join(', ')}`);
    }
    (result as unknown as Record<string, unknown>)[key] = checkField(key as keyof TlsPolicy, fieldValue, `${where}.${key}`);
  }
  return checkRange(result, where);
}

/** `--tls-policy`, `--tls-min-version`, `--tls-max-version` (commander strings) over a policy from the config file. */
export function applyTlsVersionFlags(base: Readonly<TlsPolicy>, flags: { tlsPolicy?: string; tlsMinVersion?: string; tlsMaxVersion?: string }): TlsPolicy {
  const result: TlsPolicy = { ...base };
  const pick = <T extends string>(flag: string, value: string, allowed: readonly T[]): T => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new InputError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  };
  if (flags.tlsPolicy !== undefined) Object.assign(result, TLS_POLICY_PRESETS[pick('--tls-policy', flags.tlsPolicy, TLS_POLICY_NAMES)]);
  if (flags.tlsMinVersion !== undefined) result.minVersion = pick('--tls-min-version', flags.tlsMinVersion, TLS_VERSION_NAMES);
  if (flags.tlsMaxVersion !== undefined) result.maxVersion = pick('--tls-max-version', flags.tlsMaxVersion, TLS_VERSION_NAMES);
  if (versionNumber(result.minVersion) > versionNumber(result.maxVersion)) {
    const given = [flags.tlsPolicy && `--tls-policy ${flags.tlsPolicy}`, flags.tlsMinVersion && `--tls-min-version ${flags.tlsMinVersion}`, flags.tlsMaxVersion && `--tls-max-version ${flags.tlsMaxVersion}`].filter(Boolean);
    throw new InputError(
      `${given.join(' ')}: the minimum TLS version ${result.minVersion} is above the maximum ${result.maxVersion}; versions, lowest first: ${TLS_VERSION_NAMES.join(', ')}`,
    );
  }
  return result;
}

/** "TLSv1, TLSv1.1, TLSv1.2 (policy preview-2016)" — what a 106 says the gateway accepts. */
export function describeAllowed(policy: Pick<TlsPolicy, 'minVersion' | 'maxVersion'>): string {
  const names = TLS_VERSION_NAMES.slice(TLS_VERSION_NAMES.indexOf(policy.minVersion), TLS_VERSION_NAMES.indexOf(policy.maxVersion) + 1);
  const preset = presetName(policy);
  return `${names.join(', ')}${preset ? ` (policy ${preset})` : ''}`;
}

/** The setting that would let `version` through: every 106 names it. */
export function settingToAllow(version: number, policy: Pick<TlsPolicy, 'minVersion' | 'maxVersion'>): string {
  const name = tlsVersionName(version);
  if (!name) {
    return version === SSL3 ? 'no setting allows SSLv3 (the gateway never accepts SSL)' : `no setting allows ${versionName(version)} (not a TLS version)`;
  }
  if (versionNumber(name) > versionNumber(policy.maxVersion)) return `to allow ${name} set tls.maxVersion "${name}" (--tls-max-version ${name}, or the "current" policy)`;
  return `to allow ${name} set tls.minVersion "${name}" (--tls-min-version ${name})`;
}
