import { isInputError } from '../../lib/errors.js';
import { parseProxyString, redact } from '../agent-core/proxy-string.js';

const b64 = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

/** The InputError `fn` throws; fails the test when it throws nothing or something else. */
function refusalOf(fn: () => unknown): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!isInputError(err)) throw new Error(`expected an InputError, got ${err === undefined ? 'no error' : String(err)}`);
  return err as Error;
}

describe('parseProxyString: the Linux agent proxy.conf form [http://][user:pass@]host[:port]', () => {
  test.each([
    ['http://127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['gateway.contoso.local', { host: 'gateway.contoso.local', port: 80 }],
    ['http://gw:3128', { host: 'gw', port: 3128 }],
    ['https://gw:3128', { host: 'gw', port: 3128 }], // the agent strips https:// too and still speaks plain HTTP to the proxy
    ['http://alice:s3cret@gw:8080', { host: 'gw', port: 8080, username: 'alice', password: 's3cret', authorization: b64('alice:s3cret') }],
    ['alice:s3cret@gw', { host: 'gw', port: 80, username: 'alice', password: 's3cret' }],
    ['bob:pa:ss@gw:8080', { username: 'bob', password: 'pa:ss', host: 'gw', port: 8080 }], // ':' allowed in the password
    ['carol:p%40ss@gw:1', { username: 'carol', password: 'p%40ss', authorization: b64('carol:p%40ss') }], // no percent-decoding
    ['  http://gw:8080  ', { host: 'gw', port: 8080 }],
    ['http://gw:65535', { port: 65535 }],
    ['us:er:pw@gw', { username: 'us', password: 'er:pw', host: 'gw' }], // the first ':' ends the user name
  ])('%s', (input, expected) => {
    const parsed = parseProxyString(input);
    expect(parsed).toMatchObject(expected);
    if (!('username' in expected)) expect(parsed.authorization).toBeUndefined();
  });

  test.each([
    ['', /empty/],
    ['   ', /empty/],
    ['socks5://gw:1080', /scheme "socks5:\/\/"/],
    ['ftp://gw', /scheme "ftp:\/\/"/],
    ['http://gw:80a', /port must be digits/],
    ['http://gw:', /nothing follows ':'/],
    ['http://gw:0', /out of range/],
    ['http://gw:65536', /out of range/],
    ['http://[::1]:8080', /IPv6/],
    ['http://user@gw:8080', /credentials must be user:password@/],
    ['http://a:b@c@gw', /cannot contain '@'/],
    ['http://gw/path', /not allowed in a host name/],
    ['http://g w:8080', /not allowed in a host name/],
  ])('refuses %j with a clear InputError', (input, message) => {
    let err: unknown;
    try {
      parseProxyString(input);
    } catch (e) {
      err = e;
    }
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  test('errors and display never show the password', () => {
    expect(parseProxyString('http://alice:topsecret@gw:8080').display).toBe('http://alice:***@gw:8080');
    expect(redact('http://alice:topsecret@gw:8080')).toBe('http://alice:***@gw:8080');
    const range = refusalOf(() => parseProxyString('http://alice:topsecret@gw:99999'));
    expect(range.message).toMatch(/out of range/);
    expect(range.message).not.toContain('topsecret');
    const socks = refusalOf(() => parseProxyString('socks5://alice:topsecret@gw:1080'));
    expect(socks.message).toMatch(/scheme "socks5:\/\/"/);
    expect(socks.message).not.toContain('topsecret');
  });
});
