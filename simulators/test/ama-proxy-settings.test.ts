/** The AMA proxy settings ({mode, address, auth} + protected {username, password}) as the agent reads them. */
import { InputError } from '../../lib/errors.js';
import { resolveAmaProxy } from '../ama-agent/proxy-settings.js';

test('mode none: no proxy', () => {
  expect(resolveAmaProxy({ mode: 'none' })).toBeUndefined();
});

test('mode application, auth "false": CONNECT without credentials', () => {
  expect(resolveAmaProxy({ mode: 'application', address: 'http://10.1.2.3:8080', auth: 'false' })).toEqual({ host: '10.1.2.3', port: 8080, display: 'http://10.1.2.3:8080' });
});

test('mode application, auth "true" with protected username/password: Basic on every CONNECT, password hidden in display', () => {
  const p = resolveAmaProxy({ mode: 'application', address: 'http://gw.contoso.local:8080', auth: 'true', username: 'svc-ama', password: 'p@ss:word' });
  expect(p).toMatchObject({ host: 'gw.contoso.local', port: 8080, username: 'svc-ama', password: 'p@ss:word', display: 'http://svc-ama:***@gw.contoso.local:8080' });
  expect(Buffer.from(p!.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe('svc-ama:p@ss:word');
});

test.each([
  [{ mode: 'manual' }, 'proxy mode must be one of "none", "application"'],
  [{}, 'proxy settings need a mode ("none" or "application")'],
  [{ mode: 'application' }, 'proxy mode "application" needs an address, e.g. http://127.0.0.1:8080'],
  [{ mode: 'application', address: 'https://gw:8080' }, 'proxy address "https://gw:8080" must start with http://'],
  [{ mode: 'application', address: 'http://gw' }, 'proxy address "http://gw" needs a port, as the documented form http://[address]:[port] has'],
  [{ mode: 'application', address: 'http://u:p@gw:8080' }, 'proxy address must not carry credentials'],
  [{ mode: 'application', address: 'http://gw:8080', auth: 'true' }, 'proxy auth is "true" but no username was given'],
  [{ mode: 'application', address: 'http://gw:8080', username: 'u', password: 'p' }, 'a proxy username or password was given but auth is "false"'],
  [{ mode: 'none', address: 'http://gw:8080' }, 'proxy mode "none" takes no address'],
  [{ mode: 'application', address: 'http://gw:8080', auth: 'yes' }, 'proxy auth must be one of true, false, "true", "false"'],
  [{ mode: 'application', address: 'http://gw:8080', proxyBypass: 'x' }, 'unknown proxy setting "proxyBypass"'],
])('%j is refused: %s', (settings, message) => {
  let err: unknown;
  try {
    resolveAmaProxy(settings as never);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toContain(message);
});
