import { flatString } from '../flat-string.js';

test('flatString returns the same text for every kind of string (joined, sliced, non-ASCII, lone surrogates, control characters)', () => {
  const head = 'CONNECT ws.oms.opinsights.azure.com:443 HTTP/1.1\r\nHost: ws.oms.opinsights.azure.com:443';
  const samples = [
    '',
    'a',
    `Got request from ${'127.0.0.1'}:${40000}: CONNECT ${head.slice(8, 39)} HTTP/1.1`,
    head.split('\r\n')[1].slice(6),
    'subject=CN=Müller, O=Contoso 日本 🚀',
    'lone \ud800 high, lone \udfff low',
    'quotes " and \\ backslash, \n newline, \u0000 nul, \u2028 separator',
  ];
  for (const s of samples) {
    const f = flatString(s);
    expect(f).toBe(s);
    expect(f.length).toBe(s.length);
  }
});
