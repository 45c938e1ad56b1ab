import { Ajv, type ErrorObject } from 'ajv';
import { InputError } from '../../lib/errors.js';
import { parseProxyString, type ProxySetting } from '../agent-core/proxy-string.js';

/**
 * The agent's proxy settings as the VM extension takes them: public settings
 * `{"proxy":{"mode":"none"|"application","address":"http://host:port","auth":"true"|"false"}}` and
 * protected settings `{"proxy":{"username":"...","password":"..."}}` (docs/agents.md cites the page).
 * Here both halves are one object; `auth` may be the strings the extension uses or a boolean.
 */
export interface AmaProxySettings {
  mode: 'none' | 'application';
  address?: string;
  auth?: boolean | 'true' | 'false';
  username?: string;
  password?: string;
}

const schema = {
  type: 'object',
  properties: {
    mode: { enum: ['none', 'application'] },
    address: { type: 'string', minLength: 1 },
    auth: { enum: [true, false, 'true', 'false'] },
    username: { type: 'string', minLength: 1 },
    password: { type: 'string' },
  },
  required: ['mode'],
  additionalProperties: false,
};
const validate = new Ajv({ allErrors: true }).compile(schema);

function explain(e: ErrorObject): string {
  const where = e.instancePath ? `proxy ${e.instancePath.slice(1)}` : 'proxy settings';
  if (e.keyword === 'additionalProperties') return `unknown proxy setting "${(e.params as { additionalProperty: string }).additionalProperty}" (known: mode, address, auth, username, password)`;
  if (e.keyword === 'enum') return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'required') return 'proxy settings need a mode ("none" or "application")';
  return `${where} ${e.message}`;
}

/**
 * The proxy to CONNECT through, or undefined for mode "none". Every inconsistency is an error (a
 * silent default would send traffic somewhere the operator did not mean).
 */
export function resolveAmaProxy(settings: AmaProxySettings): ProxySetting | undefined {
  if (!validate(settings)) throw new InputError(validate.errors!.map(explain).join('; '));
  const auth = settings.auth === true || settings.auth === 'true';
  if (settings.mode === 'none') {
    if (settings.address !== undefined || auth || settings.username !== undefined) throw new InputError('proxy mode "none" takes no address, auth, username or password: use mode "application" to go through a proxy');
    return undefined;
  }
  if (!settings.address) throw new InputError('proxy mode "application" needs an address, e.g. http://127.0.0.1:8080');
  if (!/^http:\/\//i.test(settings.address)) throw new InputError(`proxy address "${settings.address}" must start with http:// (the agent talks to its proxy in plain HTTP and tunnels TLS with CONNECT)`);
  if (/^http:\/\/[^/]*@/i.test(settings.address)) throw new InputError('proxy address must not carry credentials: give them as username and password (protected settings) with auth "true"');
  if (!/:\d+\/?$/.test(settings.address)) throw new InputError(`proxy address "${settings.address}" needs a port, as the documented form http://[address]:[port] has`);
  if (auth && settings.username === undefined) throw new InputError('proxy auth is "true" but no username was given (protected settings proxy.username and proxy.password)');
  if (!auth && (settings.username !== undefined || settings.password !== undefined)) throw new InputError('a proxy username or password was given but auth is "false": set auth "true" to send them, or remove them');
  if (auth && settings.username!.includes(':')) throw new InputError('the proxy username cannot contain ":" (Basic authentication separates user and password with it)');
  const base = parseProxyString(settings.address.replace(/\/$/, ''));
  if (!auth) return base;
  const password = settings.password ?? '';
  return {
    ...base,
    username: settings.username,
    password,
    authorization: `Basic ${Buffer.from(`${settings.username}:${password}`, 'utf8').toString('base64')}`,
    display: `http://${settings.username}:***@${base.host}:${base.port}`,
  };
}
