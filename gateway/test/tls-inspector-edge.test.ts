/**
 * Hand-built handshakes for the corners a Node client does not produce: GREASE, HelloRetryRequest,
 * early data, SSLv2 hellos, interleaved records, duplicate extensions, bad lengths, alerts.
 */
import { TlsInspector } from '../tls/inspector.js';
import { u16, u24 } from '../../lib/wire-bytes.js';
import { inspectorOptions, policy, SERVER_HOST } from './tls-support.js';

function vec16(...parts: Buffer[]): Buffer {
  const b = Buffer.concat(parts);
  return Buffer.concat([u16(b.length), b]);
}
function ext(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), vec16(data)]);
}
function sniExt(host: string): Buffer {
  const name = Buffer.from(host, 'latin1');
  return ext(0, vec16(Buffer.from([0]), u16(name.length), name));
}
function versionsExt(...versions: number[]): Buffer {
  return ext(43, Buffer.concat([Buffer.from([versions.length * 2]), ...versions.map(u16)]));
}
function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}
function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([Buffer.from([type]), u16(version), u16(body.length), body]);
}

function clientHello(o: { version?: number; extensions?: Buffer[]; noExtensions?: boolean } = {}): Buffer {
  const fixed = Buffer.concat([u16(o.version ?? 0x0303), Buffer.alloc(32, 7), Buffer.from([0]), vec16(u16(0xc02f)), Buffer.from([1, 0])]);
  const body = o.noExtensions ? fixed : Buffer.concat([fixed, vec16(...(o.extensions ?? [sniExt(SERVER_HOST)]))]);
  return handshake(1, body);
}
function serverHello(o: { version?: number; extensions?: Buffer[] } = {}): Buffer {
  const fixed = Buffer.concat([u16(o.version ?? 0x0303), Buffer.alloc(32, 9), Buffer.from([0]), u16(0xc02f), Buffer.from([0])]);
  return handshake(2, o.extensions ? Buffer.concat([fixed, vec16(...o.extensions)]) : fixed);
}
const SERVER_HELLO_DONE = handshake(14, Buffer.alloc(0));
const CERTIFICATE_REQUEST = handshake(13, Buffer.from([1, 1, 0, 4, 4, 1, 5, 1, 0, 0]));

function feed(inspector: TlsInspector, steps: ['c' | 's', Buffer][]) {
  let outcome = inspector.outcome;
  for (const [side, data] of steps) {
    outcome = side === 'c' ? inspector.feedClient(data) : inspector.feedServer(data);
    if (outcome.kind !== 'pending') break;
  }
  return outcome;
}

const malformed = (message: string) => ({ kind: 'malformed', eventId: 402, message });

describe('versions', () => {
  test('GREASE values in supported_versions are ignored', () => {
    const i = new TlsInspector(inspectorOptions());
    const hello = clientHello({ extensions: [sniExt(SERVER_HOST), versionsExt(0x3a3a, 0x0304, 0x0303)] });
    expect(
      feed(i, [
        ['c', record(22, hello, 0x0301)],
        ['s', record(22, Buffer.concat([serverHello(), SERVER_HELLO_DONE]))],
      ]),
    ).toEqual({ kind: 'verified', version: 'TLSv1.2', sni: SERVER_HOST });
  });

  test('a client offering only GREASE and an unknown version gets 106', () => {
    const i = new TlsInspector(inspectorOptions());
    const hello = clientHello({ extensions: [versionsExt(0x3a3a, 0x7f1c)] });
    expect(feed(i, [['c', record(22, hello)]])).toEqual({
      kind: 'rejected',
      eventId: 106,
      message: 'Unsupported TLS version: the client offers only 0x7f1c; the gateway allows TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (policy current); no setting allows 0x7f1c (not a TLS version)',
    });
  });

  test('an SSLv3-only client gets 106', () => {
    const i = new TlsInspector(inspectorOptions());
    expect(feed(i, [['c', record(22, clientHello({ version: 0x0300, noExtensions: true }), 0x0300)]])).toMatchObject({
      kind: 'rejected',
      eventId: 106,
      message: 'Unsupported TLS version: the client offers only SSLv3; the gateway allows TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (policy current); no setting allows SSLv3 (the gateway never accepts SSL)',
    });
  });

  test('a HelloRetryRequest selecting TLS 1.3 decides like a ServerHello', () => {
    const hello = clientHello({ extensions: [sniExt(SERVER_HOST), versionsExt(0x0304, 0x0303)] });
    const hrr = serverHello({ extensions: [ext(43, u16(0x0304)), ext(51, u16(0x001d))] });
    expect(feed(new TlsInspector(inspectorOptions({ policy: policy({ maxVersion: 'TLSv1.2' }) })), [['c', record(22, hello)], ['s', record(22, hrr)]])).toMatchObject({ kind: 'rejected', eventId: 106 });
    expect(feed(new TlsInspector(inspectorOptions()), [['c', record(22, hello)], ['s', record(22, hrr)]])).toMatchObject({
      kind: 'verified',
      version: 'TLSv1.3',
    });
  });

  test('a server selecting a version the client did not offer is malformed', () => {
    const hello = clientHello({ version: 0x0302, noExtensions: true });
    expect(feed(new TlsInspector(inspectorOptions()), [['c', record(22, hello)], ['s', record(22, serverHello({ version: 0x0303 }))]])).toEqual(
      malformed('server selected TLSv1.2, which the client did not offer (SSLv3, TLSv1, TLSv1.1)'),
    );
  });

  test('TLS 1.3 early data and the compatibility ChangeCipherSpec before the ServerHello are tolerated', () => {
    const hello = clientHello({ extensions: [sniExt(SERVER_HOST), versionsExt(0x0304, 0x0303), ext(42, Buffer.alloc(0))] });
    const i = new TlsInspector(inspectorOptions());
    expect(
      feed(i, [
        ['c', Buffer.concat([record(22, hello), record(20, Buffer.from([1])), record(23, Buffer.alloc(100, 0xee))])],
        ['c', record(23, Buffer.alloc(50, 0xee))],
        ['s', record(22, serverHello({ extensions: [ext(43, u16(0x0304))] }))],
      ]),
    ).toMatchObject({ kind: 'verified', version: 'TLSv1.3' });
  });

  test('application data from a client that did not offer early data is malformed', () => {
    const i = new TlsInspector(inspectorOptions());
    expect(feed(i, [['c', Buffer.concat([record(22, clientHello()), record(23, Buffer.alloc(10))])]])).toEqual(
      malformed('client sent application data before the TLS handshake completed'),
    );
  });
});

describe('framing', () => {
  test('a ClientHello fragmented over three records, with the ServerHello flight coalesced in one', () => {
    const hello = clientHello();
    const parts = [hello.subarray(0, 3), hello.subarray(3, 40), hello.subarray(40)];
    const i = new TlsInspector(inspectorOptions());
    expect(feed(i, [['c', Buffer.concat(parts.map((p) => record(22, p)))]])).toEqual({ kind: 'pending' });
    expect(i.feedServer(record(22, Buffer.concat([serverHello(), CERTIFICATE_REQUEST, SERVER_HELLO_DONE])))).toEqual({ kind: 'pending' });
    expect(i.feedClient(record(22, handshake(11, u24(0))))).toMatchObject({ kind: 'verified', version: 'TLSv1.2' });
  });

  test('a record interleaved with a fragmented handshake message', () => {
    const hello = clientHello();
    const i = new TlsInspector(inspectorOptions());
    expect(feed(i, [['c', Buffer.concat([record(22, hello.subarray(0, 10)), record(21, Buffer.from([2, 40]))])]])).toEqual(
      malformed('client Alert record at byte 15 interleaved with a fragmented handshake message'),
    );
  });

  test('record length over 2^14', () => {
    const i = new TlsInspector(inspectorOptions());
    expect(i.feedClient(Buffer.from([22, 3, 3, 0x40, 0x01]))).toEqual(malformed('client Handshake record at byte 0: length 16385 exceeds the TLS maximum of 16384'));
  });

  test('empty handshake record', () => {
    expect(new TlsInspector(inspectorOptions()).feedClient(Buffer.from([22, 3, 1, 0, 0]))).toEqual(malformed('client empty Handshake record at byte 0'));
  });

  test('record version that is not SSL/TLS', () => {
    expect(new TlsInspector(inspectorOptions()).feedClient(Buffer.from([22, 0xfe, 0xfd, 0, 10]))).toEqual(
      malformed('client Handshake record at byte 0: version 0xfefd is not SSL/TLS'),
    );
  });

  test('SSLv2-format ClientHello', () => {
    const v2 = Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15]);
    expect(new TlsInspector(inspectorOptions()).feedClient(v2)).toEqual(
      malformed('client sent an SSLv2-format ClientHello (not supported) at byte 0 instead of a TLS record'),
    );
  });

  test('a first message other than ClientHello', () => {
    expect(new TlsInspector(inspectorOptions()).feedClient(record(22, SERVER_HELLO_DONE))).toEqual(
      malformed("client's first handshake message is ServerHelloDone (14), expected ClientHello (1)"),
    );
  });

  test('a warning alert (unrecognized_name) from the server does not end the handshake; close_notify does', () => {
    const i = new TlsInspector(inspectorOptions());
    expect(
      feed(i, [
        ['c', record(22, clientHello())],
        ['s', Buffer.concat([record(21, Buffer.from([1, 112])), record(22, Buffer.concat([serverHello(), SERVER_HELLO_DONE]))])],
      ]),
    ).toMatchObject({ kind: 'verified' });
    const j = new TlsInspector(inspectorOptions());
    expect(feed(j, [['c', record(22, clientHello())], ['s', record(21, Buffer.from([1, 0]))]])).toEqual(
      malformed('server sent TLS alert warning close_notify (0) during the handshake'),
    );
  });

  test('client alert during the handshake', () => {
    const i = new TlsInspector(inspectorOptions());
    expect(feed(i, [['c', record(22, clientHello())], ['c', record(21, Buffer.from([2, 48]))]])).toEqual(
      malformed('client sent TLS alert fatal unknown_ca (48) during the handshake'),
    );
  });
});

describe('ClientHello contents', () => {
  test('duplicate extension', () => {
    const hello = clientHello({ extensions: [sniExt(SERVER_HOST), sniExt(SERVER_HOST)] });
    expect(new TlsInspector(inspectorOptions()).feedClient(record(22, hello))).toEqual(malformed('ClientHello extensions: duplicate extension 0'));
  });

  test('SNI with a control character', () => {
    const hello = clientHello({ extensions: [sniExt('bad\nhost')] });
    expect(new TlsInspector(inspectorOptions()).feedClient(record(22, hello))).toEqual(
      malformed('ClientHello extensions extension 0 server_name list: host_name byte 3 (0xa) is not printable ASCII'),
    );
  });

  test('extension length past the end', () => {
    const hello = clientHello({ extensions: [Buffer.concat([u16(0), u16(200), Buffer.alloc(4)])] });
    expect(new TlsInspector(inspectorOptions()).feedClient(record(22, hello))).toEqual(
      malformed('ClientHello extensions: extension 0 length 200 exceeds the 4 bytes left'),
    );
  });

  test('no extensions at all (TLS 1.0 style): allowed, no SNI noted', () => {
    const i = new TlsInspector(inspectorOptions());
    expect(
      feed(i, [
        ['c', record(22, clientHello({ version: 0x0301, noExtensions: true }), 0x0301)],
        ['s', record(22, Buffer.concat([serverHello({ version: 0x0301 }), SERVER_HELLO_DONE]), 0x0301)],
      ]),
    ).toEqual({ kind: 'verified', version: 'TLSv1', note: 'no SNI in ClientHello (allowed by policy)' });
  });
});

describe('server flight', () => {
  const start: ['c' | 's', Buffer][] = [['c', record(22, clientHello())]];

  test('an unexpected message in the server flight', () => {
    expect(feed(new TlsInspector(inspectorOptions()), [...start, ['s', record(22, Buffer.concat([serverHello(), handshake(20, Buffer.alloc(12))]))]])).toEqual(
      malformed('server sent Finished (20) in its TLSv1.2 hello flight'),
    );
  });

  test('ServerHelloDone with a body', () => {
    expect(feed(new TlsInspector(inspectorOptions()), [...start, ['s', record(22, Buffer.concat([serverHello(), handshake(14, Buffer.alloc(2))]))]])).toEqual(
      malformed('server ServerHelloDone has 2 bytes of body, must be empty'),
    );
  });

  test('client Certificate that is not a valid list', () => {
    const i = new TlsInspector(inspectorOptions());
    expect(
      feed(i, [
        ...start,
        ['s', record(22, Buffer.concat([serverHello(), CERTIFICATE_REQUEST, SERVER_HELLO_DONE]))],
        ['c', record(22, handshake(11, Buffer.concat([u24(10), u24(20), Buffer.alloc(7)])))],
      ]),
    ).toEqual(malformed('client Certificate certificate_list: truncated at certificate 0 (needs 20 bytes, 7 left)'));
  });

  test('client going straight to ClientKeyExchange after a certificate request: missing-certificate policy', () => {
    const steps: ['c' | 's', Buffer][] = [
      ...start,
      ['s', record(22, Buffer.concat([serverHello(), CERTIFICATE_REQUEST, SERVER_HELLO_DONE]))],
      ['c', record(22, handshake(16, Buffer.alloc(33)))],
    ];
    expect(feed(new TlsInspector(inspectorOptions()), steps)).toMatchObject({ kind: 'verified' });
    expect(feed(new TlsInspector(inspectorOptions({ policy: policy({ missingClientCertificate: 'reject' }) })), steps)).toEqual({
      kind: 'rejected',
      eventId: 105,
      message: 'Invalid Client certificate: none presented (the server requested one and it went on to ClientKeyExchange)',
    });
  });
});
