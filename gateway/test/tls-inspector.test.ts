/**
 * TlsInspector against real handshakes: Node TLS clients and servers on 127.0.0.1, recorded through
 * a relay, then replayed into the inspector in the order the relay saw them.
 */
import * as tls from 'node:tls';
import { TlsInspector } from '../tls/inspector.js';
import {
  ALLOWED_SUBJECT,
  inspect,
  inspectorOptions,
  makeTestCerts,
  OTHER_SUBJECT,
  policy,
  recordHandshake,
  SERVER_HOST,
  type Recording,
  startHandshakeRecorder,
  type TestCerts,
} from './tls-support.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.cleanup());

function serverOptions(extra: tls.TlsOptions = {}): tls.TlsOptions {
  return { key: certs.server.key, cert: certs.server.cert, ...extra };
}

const tls12 = { maxVersion: 'TLSv1.2' } as const;

/** The inspector decided on the first segment (the ClientHello) and refused with exactly this event and message. */
function expectRefusedAtClientHello(run: { decidedAt: number; outcome: unknown }, eventId: number, message: string): void {
  expect(run.decidedAt).toBe(0);
  expect(run.outcome).toEqual({ kind: 'rejected', eventId, message });
}

/** Verified for SERVER_HOST with this version and note, decided on a server segment (the ServerHello flight, not a client one). */
function expectVerifiedAtServerFlight(run: { decidedAt: number; outcome: unknown }, rec: Pick<Recording, 'segments'>, version: string, note: string): void {
  expect(run.outcome).toEqual({ kind: 'verified', version, sni: SERVER_HOST, note });
  expect(rec.segments[run.decidedAt].from).toBe('server');
}

async function record(server: tls.TlsOptions, client: tls.ConnectionOptions): Promise<Recording> {
  const r = await recordHandshake(serverOptions(server), client);
  return r;
}

describe('TLS 1.2 with a client certificate', () => {
  let rec: Recording;
  beforeAll(async () => {
    rec = await record(
      { requestCert: true, rejectUnauthorized: false },
      { ...tls12, servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert },
    );
  });

  test('the recording is a completed TLS 1.2 handshake', () => {
    expect(rec.clientError).toBeUndefined();
    expect(rec.protocol).toBe('TLSv1.2');
  });

  test('any certificate passes with an empty allowlist; the subject is reported in certificate order', () => {
    const run = inspect(rec.segments, inspectorOptions());
    expect(run.outcome).toEqual({ kind: 'verified', version: 'TLSv1.2', sni: SERVER_HOST, clientSubject: ALLOWED_SUBJECT });
  });

  test('the verdict comes with the client Certificate flight, not before', () => {
    const run = inspect(rec.segments, inspectorOptions());
    const decidingSegment = rec.segments[run.decidedAt];
    expect(decidingSegment.from).toBe('client');
    expect(rec.segments.slice(0, run.decidedAt).some((s) => s.from === 'server')).toBe(true);
  });

  test('a CN=<workspaceId> entry admits the certificate', () => {
    const run = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=other-ws', 'cn=WS-0001'] }));
    expect(run.outcome).toMatchObject({ kind: 'verified', clientSubject: ALLOWED_SUBJECT });
  });

  test('a full subject entry in the reversed (Windows) order admits the certificate', () => {
    const run = inspect(
      rec.segments,
      inspectorOptions({ clientAllowlist: ['O=Microsoft, OU=Linux Monitoring Agent, CN=agent-guid-1, CN=ws-0001'] }),
    );
    expect(run.outcome.kind).toBe('verified');
  });

  test('a subject not in the allowlist gives 105 with the subject', () => {
    const run = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=someone-else', 'CN=ws-0001, O=Microsoft'] }));
    expect(run.outcome).toEqual({ kind: 'rejected', eventId: 105, message: `Invalid Client certificate: ${ALLOWED_SUBJECT}` });
  });

  test('policy minVersion TLSv1.2 still accepts it', () => {
    expect(inspect(rec.segments, inspectorOptions({ policy: policy({ minVersion: 'TLSv1.2' }) })).outcome.kind).toBe('verified');
  });

  test('a verdict is final: later bytes are not parsed and the same outcome is returned', () => {
    const inspector = new TlsInspector(inspectorOptions());
    let outcome = inspector.feedClient(Buffer.alloc(0));
    for (const s of rec.segments) {
      outcome = s.from === 'client' ? inspector.feedClient(s.data) : inspector.feedServer(s.data);
      if (outcome.kind !== 'pending') break;
    }
    expect(outcome.kind).toBe('verified');
    expect(inspector.feedClient(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBe(outcome);
    expect(inspector.feedServer(Buffer.from([0xff, 0xff]))).toBe(outcome);
    expect(inspector.outcome).toBe(outcome);
  });

  test('the client sent exactly the first flight before the server spoke: pending after the ClientHello', () => {
    const inspector = new TlsInspector(inspectorOptions());
    expect(rec.segments[0].from).toBe('client');
    expect(inspector.feedClient(rec.segments[0].data)).toEqual({ kind: 'pending' });
  });
});

describe('client certificate that is not X.509', () => {
  test('a corrupted leaf certificate inside a well-formed Certificate message gives 402', async () => {
    const rec = await record(
      { requestCert: true, rejectUnauthorized: false },
      { ...tls12, servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert },
    );
    const der = Buffer.from(certs.allowedClient.cert.toString().replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const segments = rec.segments.map((s) => ({ from: s.from, data: Buffer.from(s.data) }));
    const holder = segments.find((s) => s.from === 'client' && s.data.indexOf(der) >= 0);
    expect(holder).toBeDefined();
    const at = holder!.data.indexOf(der);
    holder!.data[at] = 0x04; // SEQUENCE -> OCTET STRING: lengths stay intact, the DER is no certificate
    const run = inspect(segments, inspectorOptions());
    expect(run.outcome).toMatchObject({ kind: 'malformed', eventId: 402 });
    expect(run.outcome.kind === 'malformed' && run.outcome.message).toMatch(/^client Certificate: the leaf certificate is not valid X\.509 DER \(.+\)$/);
  });
});

describe('disallowed certificate subject', () => {
  test('105 names the presented subject', async () => {
    const rec = await record(
      { requestCert: true, rejectUnauthorized: false },
      { ...tls12, servername: SERVER_HOST, key: certs.otherClient.key, cert: certs.otherClient.cert },
    );
    expect(rec.protocol).toBe('TLSv1.2');
    const run = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=ws-0001'] }));
    expect(run.outcome).toEqual({ kind: 'rejected', eventId: 105, message: `Invalid Client certificate: ${OTHER_SUBJECT}` });
  });
});

describe('TLS 1.2 without a certificate request', () => {
  test('verified at ServerHelloDone, from the server flight, without a client subject', async () => {
    const rec = await record({}, { ...tls12, servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert });
    expect(rec.protocol).toBe('TLSv1.2');
    const run = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=nobody'] }));
    expect(run.outcome).toEqual({ kind: 'verified', version: 'TLSv1.2', sni: SERVER_HOST });
    expect(rec.segments[run.decidedAt].from).toBe('server');
  });
});

describe('certificate requested, none sent', () => {
  let rec: Recording;
  beforeAll(async () => {
    rec = await record({ requestCert: true, rejectUnauthorized: false }, { ...tls12, servername: SERVER_HOST });
  });

  test('default policy (allow): verified, with a note', () => {
    expect(rec.protocol).toBe('TLSv1.2');
    const run = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=ws-0001'] }));
    expect(run.outcome).toMatchObject({ kind: 'verified', version: 'TLSv1.2', sni: SERVER_HOST });
    expect(run.outcome.kind === 'verified' && run.outcome.note).toMatch(/requested a client certificate and the client sent none/);
    expect(run.outcome.kind === 'verified' && run.outcome.clientSubject).toBeFalsy();
  });

  test('policy missingClientCertificate=reject: 105', () => {
    const run = inspect(rec.segments, inspectorOptions({ policy: policy({ missingClientCertificate: 'reject' }) }));
    expect(run.outcome).toMatchObject({ kind: 'rejected', eventId: 105 });
    expect(run.outcome.kind === 'rejected' && run.outcome.message).toMatch(/^Invalid Client certificate: none presented/);
  });
});

describe('TLS 1.3', () => {
  let rec: Recording;
  beforeAll(async () => {
    rec = await record(
      { requestCert: true, rejectUnauthorized: false },
      { servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert },
    );
  });

  test('the runtime negotiated TLS 1.3 (client offered 1.2 and 1.3)', () => {
    expect(rec.protocol).toBe('TLSv1.3');
  });

  test('default (current) policy, no client allowlist: verified as TLS 1.3 at the ServerHello, noted', () => {
    const run = inspect(rec.segments, inspectorOptions());
    expectVerifiedAtServerFlight(run, rec, 'TLSv1.3', 'TLS 1.3: the client certificate is encrypted; no client allowlist to check it against');
    const wrongHost = inspect(rec.segments, inspectorOptions({ connectHost: 'elsewhere.test' }));
    expect(wrongHost.outcome).toMatchObject({ kind: 'rejected', eventId: 105 });
  });

  test('preview-2016 policy (max TLS 1.2): 106 naming the setting that would allow TLS 1.3', () => {
    const run = inspect(rec.segments, inspectorOptions({ policy: policy({ maxVersion: 'TLSv1.2' }) }));
    expect(run.outcome).toEqual({
      kind: 'rejected',
      eventId: 106,
      message:
        'Unsupported TLS version: the server selected TLSv1.3; the gateway allows TLSv1, TLSv1.1, TLSv1.2 (policy preview-2016); ' +
        'to allow TLSv1.3 set tls.maxVersion "TLSv1.3" (--tls-max-version TLSv1.3, or the "current" policy)',
    });
    expect(rec.segments[run.decidedAt].from).toBe('server');
  });

  test('a client allowlist under TLS 1.3: 106 by default (fail closed, naming the setting); "allow" lets it through unchecked', () => {
    const strict = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=ws-0001', 'CN=other'] }));
    expect(strict.outcome).toEqual({
      kind: 'rejected',
      eventId: 106,
      message:
        'Unsupported TLS version: the server selected TLSv1.3, which encrypts the client certificate, and the client allowlist has 2 subject(s) to check it against; ' +
        'to let TLS 1.3 through unchecked set tls.tls13ClientCertificate "allow"; to keep the check, the agent or the server must use TLS 1.2 (or empty allowedlist_client.txt)',
    });
    const lax = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=nobody'], policy: policy({ tls13ClientCertificate: 'allow' }) }));
    expect(lax.outcome).toMatchObject({ kind: 'verified', version: 'TLSv1.3', sni: SERVER_HOST });
    expect(lax.outcome.kind === 'verified' && lax.outcome.note).toBe(
      'TLS 1.3: the client certificate is encrypted and was NOT checked against the client allowlist (1 subject(s)) (tls.tls13ClientCertificate "allow")',
    );
  });

  test('a TLS 1.3-only client is refused at ClientHello when the policy stops at TLS 1.2, and passes the ClientHello by default', async () => {
    const only13 = await record({}, { minVersion: 'TLSv1.3', servername: SERVER_HOST });
    expect(only13.protocol).toBe('TLSv1.3');
    const run = inspect(only13.segments, inspectorOptions({ policy: policy({ maxVersion: 'TLSv1.2' }) }));
    expectRefusedAtClientHello(
      run,
      106,
      'Unsupported TLS version: the client offers only TLSv1.3; the gateway allows TLSv1, TLSv1.1, TLSv1.2 (policy preview-2016); ' +
        'to allow TLSv1.3 set tls.maxVersion "TLSv1.3" (--tls-max-version TLSv1.3, or the "current" policy)',
    );
    const byDefault = inspect(only13.segments, inspectorOptions());
    expect(byDefault.outcome).toMatchObject({ kind: 'verified', version: 'TLSv1.3' });
  });

  test('a TLS 1.2-only client against a TLS 1.3-only policy: 106 naming tls.minVersion', async () => {
    const only12 = await record({}, { ...tls12 });
    const run = inspect(only12.segments, inspectorOptions({ policy: policy({ minVersion: 'TLSv1.3' }) }));
    expectRefusedAtClientHello(run, 106, 'Unsupported TLS version: the client offers only SSLv3, TLSv1, TLSv1.1, TLSv1.2; the gateway allows TLSv1.3; to allow TLSv1.2 set tls.minVersion "TLSv1.2" (--tls-min-version TLSv1.2)');
  });
});

describe('SNI', () => {
  test('mismatch: 105 naming both', async () => {
    const rec = await record({}, { ...tls12, servername: 'other.example.test' });
    const run = inspect(rec.segments, inspectorOptions());
    expectRefusedAtClientHello(run, 105, `SNI (other.example.test) does not match CONNECT host (${SERVER_HOST})`);
  });

  test('case and a trailing dot on the CONNECT host do not matter', async () => {
    const rec = await record({}, { ...tls12, servername: SERVER_HOST });
    expect(inspect(rec.segments, inspectorOptions({ connectHost: 'Agents.Example.TEST.' })).outcome.kind).toBe('verified');
  });

  test('requireSniMatch=false lets a mismatch through', async () => {
    const rec = await record({}, { ...tls12, servername: 'other.example.test' });
    const run = inspect(rec.segments, inspectorOptions({ policy: policy({ requireSniMatch: false }) }));
    expect(run.outcome).toMatchObject({ kind: 'verified', sni: 'other.example.test' });
  });

  describe('missing (client connects to an IP literal, Node sends no SNI)', () => {
    let rec: Recording;
    beforeAll(async () => {
      rec = await record({}, { ...tls12 });
    });

    test('default policy allows it, with a note', () => {
      const run = inspect(rec.segments, inspectorOptions());
      expect(run.outcome).toMatchObject({ kind: 'verified', version: 'TLSv1.2' });
      expect(run.outcome.kind === 'verified' && run.outcome.sni).toBeUndefined();
      expect(run.outcome.kind === 'verified' && run.outcome.note).toMatch(/no SNI/);
    });

    test('missingSni=reject: 105', () => {
      const run = inspect(rec.segments, inspectorOptions({ policy: policy({ missingSni: 'reject' }) }));
      expect(run.outcome).toEqual({
        kind: 'rejected',
        eventId: 105,
        message: `ClientHello has no SNI; the policy requires one naming the CONNECT host (${SERVER_HOST})`,
      });
    });
  });
});

describe('policy minimum version', () => {
  test('a client capped at TLS 1.1 against minVersion TLSv1.2 is refused at ClientHello (106)', async () => {
    const legacy = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
    // The server need not accept it: the inspector decides from the ClientHello alone.
    const rec = await record({}, { ...legacy, servername: SERVER_HOST });
    const run = inspect(rec.segments, inspectorOptions({ policy: policy({ minVersion: 'TLSv1.2' }) }));
    expectRefusedAtClientHello(run, 106, 'Unsupported TLS version: the client offers only SSLv3, TLSv1, TLSv1.1; the gateway allows TLSv1.2, TLSv1.3; to allow TLSv1.1 set tls.minVersion "TLSv1.1" (--tls-min-version TLSv1.1)');
  });
});

describe('TLS 1.0 and 1.1 (legacy protocols at OpenSSL security level 0)', () => {
  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    test(`${version} with a client certificate is verified as ${version}`, async () => {
      const legacy = { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' } as const;
      const rec = await record(
        { ...legacy, requestCert: true, rejectUnauthorized: false },
        { ...legacy, servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert },
      );
      // Node 20's OpenSSL still speaks TLS 1.0/1.1 at security level 0 (the ciphers above): the handshake must happen.
      expect({ protocol: rec.protocol, clientError: rec.clientError }).toEqual({ protocol: version, clientError: undefined });
      const run = inspect(rec.segments, inspectorOptions({ clientAllowlist: ['CN=ws-0001'] }));
      expect(run.outcome).toEqual({ kind: 'verified', version, sni: SERVER_HOST, clientSubject: ALLOWED_SUBJECT });
    });
  }
});

describe('session resumption (abbreviated TLS 1.2 handshake)', () => {
  test('verified at the server ChangeCipherSpec, with a note', async () => {
    const recorder = await startHandshakeRecorder(serverOptions({ requestCert: true, rejectUnauthorized: false }));
    try {
      const client = { ...tls12, servername: SERVER_HOST, key: certs.allowedClient.key, cert: certs.allowedClient.cert };
      const first = await recorder.connect(client);
      expect(first.session).toBeDefined();
      const second = await recorder.connect({ ...client, session: first.session });
      expect(second.protocol).toBe('TLSv1.2');
      const run = inspect(second.segments, inspectorOptions({ clientAllowlist: ['CN=nobody'] }));
      expectVerifiedAtServerFlight(run, second, 'TLSv1.2', 'abbreviated handshake (session resumption): no certificates exchanged');
    } finally {
      await recorder.close();
    }
  });
});

describe('not TLS, alerts and malformed input: 402', () => {
  test('plain HTTP after CONNECT', () => {
    const inspector = new TlsInspector(inspectorOptions());
    expect(inspector.feedClient(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toEqual({
      kind: 'malformed',
      eventId: 402,
      message: 'client sent plain text "GET / HTTP/1.1" at byte 0 instead of a TLS record',
    });
  });

  test('binary garbage', () => {
    const inspector = new TlsInspector(inspectorOptions());
    expect(inspector.feedClient(Buffer.from([0x00, 0x01, 0x02]))).toEqual({
      kind: 'malformed',
      eventId: 402,
      message: 'client sent content type 0x00 (a TLS record starts with 20-23) at byte 0 instead of a TLS record',
    });
  });

  test('a server that refuses the hello with an alert', async () => {
    // The client offers only TLS 1.0; the server insists on 1.2 and answers with a protocol_version alert.
    const rec = await record({ minVersion: 'TLSv1.2' }, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0', servername: SERVER_HOST });
    expect(rec.clientError).toBeDefined();
    const run = inspect(rec.segments, inspectorOptions());
    expect(run.outcome).toEqual({
      kind: 'malformed',
      eventId: 402,
      message: 'server sent TLS alert fatal protocol_version (70) during the handshake',
    });
  });

  test('a ClientHello larger than the buffer cap is refused as soon as its header arrives', () => {
    const inspector = new TlsInspector(inspectorOptions({ policy: policy({ maxBufferBytes: 4096 }) }));
    const header = Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0x00, 0x3f, 0xfc]);
    expect(inspector.feedClient(header)).toEqual({
      kind: 'malformed',
      eventId: 402,
      message: 'client ClientHello (1) of 16380 bytes exceeds the inspection buffer of 4096 bytes',
    });
    expect(inspector.bufferedBytes()).toEqual({ client: 0, server: 0 });
  });

  test('server bytes before any ClientHello', () => {
    const inspector = new TlsInspector(inspectorOptions());
    expect(inspector.feedServer(Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0]))).toEqual({
      kind: 'malformed',
      eventId: 402,
      message: 'server sent ServerHello (2) before the client\'s ClientHello',
    });
  });
});
