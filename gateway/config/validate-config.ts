import { isIP } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { InputError } from '../../lib/errors.js';
import { parseResetTime } from '../counters/daily-distinct-clients.js';
import { parseHostMapEntry } from '../routes/host-map.js';
import { parseRelayProxy } from '../routes/relay.js';
import { parseTlsPolicy } from '../tls/policy.js';
import { CONFIG_KEYS, CONFIG_SCHEMA, type ConfigKey, type GatewayConfig } from './config-schema.js';

/** Stands for "where" while a parser runs inside ajv; replaced by the real place afterwards. */
const HERE = '\u0000here\u0000';

/** Parsers for rules JSON Schema cannot express; each throws InputError naming `where`. */
const PARSERS: Record<string, (value: unknown, where: string) => void> = {
  hostMapEntry: (v, w) => void parseHostMapEntry(v as string, w),
  relayProxy: (v, w) => void parseRelayProxy(v as string, w),
  resetTime: (v, w) => void parseResetTime(v as string, w),
  tlsPolicy: (v, w) => void parseTlsPolicy(v, w),
  ipAddress: (v, w) => {
    if (typeof v !== 'string' || (isIP(v) === 0 && v !== 'localhost')) throw new InputError(`${w} must be an IP address such as 127.0.0.1 or ::1, got ${describe(v)}`);
  },
  userPass: (v, w) => {
    if (typeof v !== 'string' || !/^[^:]+:.+$/.test(v) || /[\r\n]/.test(v)) throw new InputError(`${w} must be "user:password"`);
  },
};

/** Values never echoed back in an error message. */
const SECRET: ReadonlySet<string> = new Set(['adminToken', 'proxyAuth', 'relayProxy']);

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, verbose: true });
  ajv.addKeyword({ keyword: 'x-expect', schemaType: 'string' });
  ajv.addKeyword({
    keyword: 'x-parse',
    schemaType: 'string',
    errors: true,
    validate: function check(name: string, value: unknown): boolean {
      try {
        PARSERS[name](value, HERE);
        return true;
      } catch (err) {
        (check as unknown as { errors: Partial<ErrorObject>[] }).errors = [{ keyword: 'x-parse', message: (err as Error).message, params: {} }];
        return false;
      }
    },
  });
  return ajv;
}

let validators: Map<string, ValidateFunction> | undefined;
function validatorFor(key: ConfigKey): ValidateFunction {
  if (!validators) {
    const ajv = makeAjv();
    validators = new Map(CONFIG_KEYS.map((k) => [k, ajv.compile(CONFIG_SCHEMA.properties![k] as object)]));
  }
  return validators.get(key)!;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? json.slice(0, 77) + '...' : json;
}

/** `/0/x` → `[0].x` */
function subPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('');
}

function messageFor(e: ErrorObject, key: string, where: string): string {
  const at = where + subPath(e.instancePath);
  if (e.keyword === 'x-parse') return (e.message ?? 'invalid').split(HERE).join(at);
  const expect = (e.parentSchema as { 'x-expect'?: string } | undefined)?.['x-expect'] ?? e.message ?? 'valid';
  const shown = SECRET.has(key) ? '' : `, got ${describe(e.data)}`;
  return `${at} must be ${expect}${shown}`;
}

/**
 * Checks one setting against the schema. `where` names it in messages (e.g. `gateway.json: "listenPort"`).
 * Returns the value to store: "" and null mean "not set" for optional settings; tls gets its defaults.
 */
export function validateSetting<K extends ConfigKey>(key: K, value: unknown, where: string): GatewayConfig[K] | undefined {
  const validate = validatorFor(key);
  if (!validate(value)) {
    // One message per place; the first error at a place is the most specific.
    const seen = new Set<string>();
    const messages: string[] = [];
    for (const e of validate.errors ?? []) {
      if (seen.has(e.instancePath)) continue;
      seen.add(e.instancePath);
      messages.push(messageFor(e, key, where));
    }
    throw new InputError(messages.join('; '));
  }
  if (value === null && key !== 'adminPort') return undefined;
  if (key === 'relayProxy' && typeof value === 'string' && value.trim() === '') return undefined;
  if (key === 'tls') return parseTlsPolicy(value, where) as GatewayConfig[K];
  return value as GatewayConfig[K];
}

export function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as string[]).includes(key);
}

/**
 * Validates a partial configuration object (gateway.json content or programmatic options), reporting
 * every bad key at once. `label(key)` says where a key came from, e.g. `gateway.json: "listenPort"`.
 */
export function validatePartialConfig(raw: unknown, label: (key: string) => string, source: string): Partial<GatewayConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(`${source} must be a JSON object of settings, got ${describe(raw)}`);
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$schema' || key === '//') continue;
    if (!isConfigKey(key)) {
      problems.push(`${label(key)} is not a known setting (known: ${CONFIG_KEYS.join(', ')})`);
      continue;
    }
    if (value === undefined) continue;
    try {
      const v = validateSetting(key, value, label(key));
      if (v !== undefined) out[key] = v;
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length) throw new InputError(problems.join('; '));
  return out as Partial<GatewayConfig>;
}
