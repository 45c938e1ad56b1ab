import { InputError } from '../../lib/errors.js';

/** A proxy setting parsed the way the Linux agent parses `/etc/opt/microsoft/omsagent/proxy.conf`. */
export interface ProxySetting {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** `Basic base64(user:pass)` when credentials were given; sent on every CONNECT. */
  authorization?: string;
  /** The same setting without credentials, safe to print. */
  display: string;
}

/**
 * The real agent's default when the port is omitted: its data path (Ruby Net::HTTP, out_oms.rb)
 * falls back to the scheme default, 80. (Its one-shot onboarding via curl would use 1080; the
 * simulator uses one proxy for every call, so it follows the long-running data path.)
 */
export const DEFAULT_PROXY_PORT = 80;

// The same expression as OMS::Configuration.parse_proxy_config in the Linux agent:
//   ^(?:(?<user>[^:]+):(?<pass>[^@]+)@)?(?<addr>[^:@]+)(?::(?<port>\d+))?$
// so user names cannot contain ':', passwords cannot contain '@', and IPv6 literals are not accepted.
const PROXY_RE = /^(?:(?<user>[^:]+):(?<pass>[^@]+)@)?(?<addr>[^:@]+)(?::(?<port>\d+))?$/;

/**
 * Parses `[http://][user:pass@]host[:port]` exactly as the Linux agent does (an `https://` prefix is
 * stripped the same way; any other scheme is refused). Credentials are taken literally, with no
 * percent-decoding, as the agent passes them to Net::HTTP unchanged.
 */
export function parseProxyString(input: string): ProxySetting {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new InputError('proxy is empty: give it as [http://][user:pass@]host[:port], e.g. http://127.0.0.1:8080');
  }
  const raw = input.trim();
  const withoutScheme = raw.replace(/^(https?:\/\/)?/, '');
  const otherScheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(withoutScheme);
  if (otherScheme) {
    throw new InputError(`proxy "${redact(raw)}" uses the scheme "${otherScheme[1]}://", which the agent does not support: use http://host:port`);
  }
  const m = PROXY_RE.exec(withoutScheme);
  if (!m?.groups) {
    throw new InputError(`proxy "${redact(raw)}" is not of the form [http://][user:pass@]host[:port] ${explain(withoutScheme)}`);
  }
  const { user, pass, addr, port: portText } = m.groups;
  const host = addr!;
  if (/[\s/?#]/.test(host)) {
    throw new InputError(`proxy host "${host}" contains a character that is not allowed in a host name (space, '/', '?' or '#')`);
  }
  let port = DEFAULT_PROXY_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new InputError(`proxy port ${portText} is out of range: use 1-65535`);
    }
  }
  const setting: ProxySetting = { host, port, display: `http://${user !== undefined ? `${user}:***@` : ''}${host}:${port}` };
  if (user !== undefined && pass !== undefined) {
    setting.username = user;
    setting.password = pass;
    setting.authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  }
  return setting;
}

/** Hides a password in a proxy string so it can appear in errors and logs. */
export function redact(proxy: string): string {
  return proxy.replace(/^((?:[a-z]+:\/\/)?[^:@/]+:)[^@]+@/i, '$1***@');
}

function explain(s: string): string {
  if ((s.match(/@/g)?.length ?? 0) > 1) return "(the password cannot contain '@'; the agent does not decode %40 either)";
  if (s.includes('@') && !/^[^:@]+:[^@]+@/.test(s)) return '(credentials must be user:password@, with no \':\' in the user name and no \'@\' in the password)';
  if (/^\[/.test(s) || (s.match(/:/g)?.length ?? 0) > (s.includes('@') ? 2 : 1)) return '(IPv6 literals and extra \':\' are not accepted by the agent)';
  if (s.endsWith(':')) return "(nothing follows ':': give the port, e.g. host:8080)";
  if (/:(?!\d+$)[^:]*$/.test(s)) return '(the port must be digits only)';
  return '';
}
