import fc from 'fast-check';
import { AuthorityError, parseAuthority } from '../connect/authority.js';
import { parseHead } from '../connect/request-head.js';
import { parseServerAllowlist, addEntryToText, removeEntryFromText, sameHost } from '../allowlist/allowlist-file.js';
import { ServerAllowlist } from '../allowlist/server-allowlist.js';
import { HostMap } from '../routes/host-map.js';
import { parseRelayProxy, maskRelayUrl } from '../routes/relay.js';
import { isPrivateAddress } from '../routes/address-class.js';

describe('CONNECT authority', () => {
  test.each([
    ['WS.OMS.Opinsights.Azure.com:443', 'ws.oms.opinsights.azure.com', 443, 'dns'],
    ['host.example.:443', 'host.example', 443, 'dns'],
    ['10.1.2.3:8443', '10.1.2.3', 8443, 'ipv4'],
    ['[::1]:443', '::1', 443, 'ipv6'],
    ['[2001:DB8::1]:1', '2001:db8::1', 1, 'ipv6'],
    ['a:65535', 'a', 65535, 'dns'],
  ])('%s is accepted', (input, host, port, kind) => {
    expect(parseAuthority(input)).toMatchObject({ host, port, kind });
  });

  const ONLY = /must be host:port only \(no userinfo, path, spaces or control characters\)$/;
  const DIGITS = /: port must be 1-65535 in decimal digits$/;
  const RANGE = /: port \d+ is out of range 1-65535$/;
  const BRACKETS = /must be \[ipv6\]:port$/;
  const NAME = /is not a valid host name$/;
  const IPV4 = /is not a valid IPv4 address$/;
  test.each([
    ['host', /has no port \(expected host:port\)$/], ['host:', DIGITS], [':443', /has an empty host$/], ['host:0', RANGE], ['host:65536', RANGE],
    ['host:0x1bb', DIGITS], ['host:+443', DIGITS], ['host: 443', ONLY], ['user@host:443', ONLY], ['user:pw@host:443', ONLY],
    ['host:443/path', ONLY], ['host/x:443', ONLY], ['ho st:443', ONLY], ['host\t:443', ONLY], ['host\x00:443', ONLY],
    ['::1:443', /IPv6 addresses must be in brackets$/], ['[::1]443', BRACKETS], ['[::1]', BRACKETS], ['[zz::1]:443', /"zz::1" is not an IPv6 address$/],
    ['host..:443', NAME], ['.host:443', NAME], ['-bad.example:443', NAME], ['999.1.1.1:443', IPV4], ['1.2.3:443', IPV4],
    ['a%2eb:443', ONLY], ['host#frag:443', ONLY], ['host?x:443', ONLY],
  ] as const)('%j is refused: an AuthorityError saying why', (input, why) => {
    let err: unknown;
    try {
      parseAuthority(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AuthorityError);
    expect((err as Error).message).toMatch(why);
  });

  test('property: accepted targets are lower-case and re-parse to themselves', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        let a;
        try {
          a = parseAuthority(`${host}:${port}`);
        } catch {
          return true;
        }
        return a.host === a.host.toLowerCase() && !/[\s@/]/.test(a.host) && parseAuthority(a.display).display === a.display;
      }),
    );
  });
});

describe('request head', () => {
  test('parses request line and headers in order', () => {
    expect(parseHead('CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nProxy-Authorization:  Basic eA==  ')).toEqual({
      method: 'CONNECT',
      target: 'h:443',
      version: 'HTTP/1.1',
      headers: [
        ['Host', 'h:443'],
        ['Proxy-Authorization', 'Basic eA=='],
      ],
    });
  });
  test.each(['CONNECT h:443', 'CONNECT h:443 HTTP/1.1 x', 'CONNECT h:443 HTTP/1.1\r\n folded', 'CONNECT h:443 HTTP/1.1\r\nno-colon', 'CONNECT h:443 HTTP/1.1\r\nBad Name: x', 'C@NNECT h:443 HTTP/1.1'])('%j is malformed', (text) => {
    expect(typeof parseHead(text)).toBe('string');
  });
});

describe('server allowlist', () => {
  test('comments, blanks, case, trailing dot, *.suffix', () => {
    const hosts = parseServerAllowlist('# comment\n\n  WS.oms.opinsights.azure.com.  \n*.blob.core.windows.net\n', 'f');
    expect(hosts).toEqual(['ws.oms.opinsights.azure.com', '*.blob.core.windows.net']);
    const list = new ServerAllowlist(hosts);
    expect(list.allows('ws.oms.opinsights.azure.com')).toBe(true);
    expect(list.allows('x.ws.oms.opinsights.azure.com')).toBe(false);
    expect(list.allows('acct.blob.core.windows.net')).toBe(true);
    expect(list.allows('blob.core.windows.net')).toBe(false);
    expect(list.allows('evilblob.core.windows.net')).toBe(false);
  });
  test('bad lines name the file and line', () => {
    expect(() => parseServerAllowlist('ok.example\nbad host\n', 'allowedlist_server.txt')).toThrow(/allowedlist_server.txt line 2/);
    expect(() => parseServerAllowlist('*.com\n', 'f')).toThrow(/too broad/);
    expect(() => parseServerAllowlist('a.*.com\n', 'f')).toThrow(/wildcard/);
  });
  test('add/remove keep comments', () => {
    const text = '# keep me\na.example\n';
    const added = addEntryToText(text, 'b.example', sameHost);
    expect(added).toEqual({ text: '# keep me\na.example\nb.example\n', changed: true });
    expect(addEntryToText(added.text, 'B.EXAMPLE', sameHost).changed).toBe(false);
    expect(removeEntryFromText(added.text, 'a.example', sameHost)).toEqual({ text: '# keep me\nb.example\n', changed: true });
  });
});

describe('host map, relay URL, address classes', () => {
  test('exact entries beat suffixes; the longest suffix wins', () => {
    const m = new HostMap(['*.opinsights.azure.com=127.0.0.1:1000', '*.oms.opinsights.azure.com=127.0.0.1:2000', 'ws.oms.opinsights.azure.com=[::1]:3000']);
    expect(m.lookup('ws.oms.opinsights.azure.com')).toEqual({ host: '::1', port: 3000 });
    expect(m.lookup('other.oms.opinsights.azure.com')).toEqual({ host: '127.0.0.1', port: 2000 });
    expect(m.lookup('x.ods.opinsights.azure.com')).toEqual({ host: '127.0.0.1', port: 1000 });
    expect(m.lookup('opinsights.azure.com')).toBeUndefined();
  });
  test.each(['nohost', 'a.example=127.0.0.1', 'a.example=127.0.0.1:0', 'a.example=::1:443', 'bad host=127.0.0.1:1'])('host map entry %j is refused', (e) => {
    expect(() => new HostMap([e], '--host-map')).toThrow(/--host-map/);
  });
  test('relay URL parsing and masking', () => {
    expect(parseRelayProxy('http://u%40x:p%3Aw@proxy.lab:3128', 'r')).toEqual({ host: 'proxy.lab', port: 3128, username: 'u@x', password: 'p:w' });
    expect(parseRelayProxy('', 'r')).toBeUndefined();
    expect(() => parseRelayProxy('https://proxy:1', '--relay-proxy')).toThrow(/--relay-proxy must use http/);
    expect(() => parseRelayProxy('http://proxy:1/path', '--relay-proxy')).toThrow(/no path/);
    expect(maskRelayUrl('http://user:secret@h:1')).toBe('http://user:****@h:1');
  });
  test.each([
    ['127.0.0.1', true], ['10.2.3.4', true], ['172.16.0.1', true], ['172.32.0.1', false], ['192.168.1.1', true], ['169.254.1.1', true],
    ['100.64.0.1', true], ['0.0.0.0', true], ['::1', true], ['fe80::1', true], ['fd00::1', true], ['::ffff:127.0.0.1', true],
    ['20.42.0.1', false], ['2603:1030::1', false],
  ])('%s private: %s', (addr, expected) => {
    expect(isPrivateAddress(addr as string)).toBe(expected);
  });
});
