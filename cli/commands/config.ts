import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { CONFIG_KEYS, isConfigKey, validateSetting } from '../../gateway/config/schema.js';
import { formatRelayProxy, maskRelayUrl, parseRelayProxy } from '../../gateway/routes/relay.js';
import { TLS_POLICY_KEYS } from '../../gateway/tls/policy.js';
import { print, printJson } from '../management/output.js';
import { targetFromFlags, withTargetOptions, type RelayView } from '../management/target.js';

function knownKey(key: string): void {
  if (!isConfigKey(key)) throw new InputError(`unknown setting "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
}

/** A value on the command line: JSON when it parses, else the plain string. */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // a bare string such as a host or URL
  }
}

/** `config set KEY VALUE`: JSON when it parses, else a plain string; `null` (and "" for the relay) unsets. */
export function parseConfigValue(key: string, text: string): unknown {
  knownKey(key);
  let value = jsonOrText(text);
  if (key === 'relayProxy' && value !== null && typeof value !== 'string') value = text;
  if (value === null || (key === 'relayProxy' && value === '')) {
    if (key !== 'adminPort') return null;
  }
  const v = validateSetting(key as never, value, key);
  return v === undefined ? null : v;
}

/**
 * "tls.minVersion": one field of the TLS policy (the gateway's event 106 names settings this way);
 * every other setting is set whole. Returns undefined for a whole-setting key.
 */
export function tlsField(key: string): string | undefined {
  const dot = key.indexOf('.');
  if (dot < 0) return undefined;
  const top = key.slice(0, dot);
  const field = key.slice(dot + 1);
  knownKey(top);
  if (top !== 'tls') throw new InputError(`"${key}": only the tls setting has fields to set one at a time (e.g. tls.minVersion); set ${top} whole: omsgw config set ${top} <value>`);
  if (!TLS_POLICY_KEYS.includes(field)) throw new InputError(`"${key}": unknown TLS policy field "${field}" (known: ${TLS_POLICY_KEYS.join(', ')})`);
  return field;
}

/**
 * The whole tls setting with one field changed (null removes it, so its default applies). A preset
 * (`policy`) replaces the version range, so the current minVersion/maxVersion give way to it.
 */
export function withTlsField(current: unknown, field: string, text: string): unknown {
  const tls: Record<string, unknown> = current && typeof current === 'object' ? { ...(current as Record<string, unknown>) } : {};
  if (field === 'policy') {
    delete tls.minVersion;
    delete tls.maxVersion;
  }
  const value = jsonOrText(text);
  if (value === null) delete tls[field];
  else tls[field] = value;
  return validateSetting('tls', tls, 'tls');
}

function show(value: unknown): string {
  return value === undefined ? '(not set)' : typeof value === 'string' ? value : JSON.stringify(value);
}

function registerConfig(program: Command): void {
  const config = program.command('config').description('show or change gateway settings; mirrors Get/Set-OMSGatewayConfig').addHelpText('after', '\nExamples:\n  omsgw config get\n  omsgw config set listenPort 8080 --dir ./gw');
  withTargetOptions(config.command('get').description('show the settings (credentials masked); saved-but-not-live settings are marked').argument('[key]', 'one setting only').option('--json', 'JSON output (with "pending")'))
    .addHelpText('after', '\nExample:\n  omsgw config get listenPort --admin http://127.0.0.1:8081')
    .action(async (key, opts) => {
      const field = key === undefined ? undefined : tlsField(key);
      if (key !== undefined && field === undefined) knownKey(key);
      const { settings, pending } = await targetFromFlags(opts).settings();
      if (field !== undefined) {
        const of = (v: unknown): unknown => (v && typeof v === 'object' ? (v as Record<string, unknown>)[field] : undefined);
        const p = pending.tls;
        print(show(of(settings.tls)) + (p ? `  (pending: ${show(of(p.saved))} saved, not live; ${p.when === 'reload' ? 'applied by `omsgw gateway reload`' : 'restart required'})` : ''));
        return;
      }
      if (key === undefined) {
        if (opts.json) return printJson({ ...settings, ...(Object.keys(pending).length ? { pending } : {}) });
        printJson(settings);
        for (const [k, p] of Object.entries(pending)) print(`pending: ${k} = ${show(p.saved)} (saved, not live: ${p.when === 'reload' ? 'applied by `omsgw gateway reload`' : 'restart required'})`);
        return;
      }
      const p = pending[key];
      print(show(settings[key]) + (p ? `  (pending: ${show(p.saved)} saved, not live; ${p.when === 'reload' ? 'applied by `omsgw gateway reload`' : 'restart required'})` : ''));
    });
  withTargetOptions(config.command('set').description('change one setting (null unsets it)').argument('<key>', 'setting name, e.g. listenPort, or tls.<field> for one TLS policy field').argument('<value>', 'new value (JSON or a plain string)'))
    .addHelpText('after', '\nExamples:\n  omsgw config set listenPort 8080 --dir ./gw\n  omsgw config set relayProxy null --admin http://127.0.0.1:8081   (direct connections)\n  omsgw config set tls.minVersion TLSv1.1 --admin http://127.0.0.1:8081   (one field of the TLS policy)')
    .action(async (key, value, opts) => {
      const target = targetFromFlags(opts);
      const field = tlsField(key);
      if (field === undefined) return print(await target.set(key, parseConfigValue(key, value)));
      const { settings } = await target.settings();
      print(await target.set('tls', withTlsField(settings.tls, field, value)));
    });
}

function describeRelay(r: RelayView | null): string {
  if (!r) return '(none: direct connections)';
  if (!r.username) return r.address;
  return `${r.address} (user ${r.username}${r.hasPassword ? ', password ****' : ', no password'})`;
}

function registerRelayProxy(program: Command): void {
  const relay = program.command('relay-proxy').description('show or set the upstream (relay) proxy; mirrors Get/Set-OMSGatewayRelayProxy').addHelpText('after', '\nExamples:\n  omsgw relay-proxy get\n  omsgw relay-proxy set --address http://proxy.lab:3128 --username u --password p --dir ./gw\n  omsgw relay-proxy set --address ""   (direct connections)');
  withTargetOptions(relay.command('get').description('show the relay proxy (password masked)'))
    .addHelpText('after', '\nExample:\n  omsgw relay-proxy get --admin http://127.0.0.1:8081')
    .action(async (opts) => print(describeRelay(await targetFromFlags(opts).relayProxy())));
  withTargetOptions(
    relay
      .command('set')
      .description('set the relay proxy ("" for none)')
      .requiredOption('--address <url>', 'http://host:port, or "" for direct connections')
      .option('--username <user>', 'user for Proxy-Authorization: Basic')
      .option('--password <password>', 'password for Proxy-Authorization: Basic'),
  )
    .addHelpText('after', '\nExample:\n  omsgw relay-proxy set --address http://127.0.0.1:3128 --username gw --password secret --admin http://127.0.0.1:8081')
    .action(async (opts) => {
      const target = targetFromFlags(opts);
      let url: string | null = null;
      if (opts.address.trim() !== '') {
        const parsed = parseRelayProxy(opts.address, '--address');
        if (!parsed) throw new InputError('--address must be http://host:port');
        if (opts.username !== undefined) parsed.username = opts.username;
        if (opts.password !== undefined) parsed.password = opts.password;
        url = formatRelayProxy(parsed, false);
      } else if (opts.username !== undefined || opts.password !== undefined) throw new InputError('--username/--password need an --address');
      const said = await target.set('relayProxy', url);
      print(`relay proxy ${url ? maskRelayUrl(url) : 'removed'}: ${said.replace(/^relayProxy (applied: )?/, '')}`);
    });
}

export function registerConfigCommands(program: Command): void {
  registerConfig(program);
  registerRelayProxy(program);
}
