import { InputError } from '../../lib/errors.js';
import { DEFAULT_TLS_POLICY, parseTlsPolicy } from '../tls/policy.js';

describe('DEFAULT_TLS_POLICY', () => {
  test('is the real product: TLS 1.0-1.2, no TLS 1.3, SNI must match, missing SNI and missing certificate allowed', () => {
    expect(DEFAULT_TLS_POLICY).toEqual({
      minVersion: 'TLSv1',
      allowTls13: false,
      requireSniMatch: true,
      missingSni: 'allow',
      missingClientCertificate: 'allow',
      inspectionTimeoutMs: 10_000,
      maxBufferBytes: 65_536,
    });
    expect(Object.isFrozen(DEFAULT_TLS_POLICY)).toBe(true);
  });
});

describe('parseTlsPolicy', () => {
  test('fills missing fields from the defaults', () => {
    expect(parseTlsPolicy({ allowTls13: true, minVersion: 'TLSv1.2' }, 'config.tls')).toEqual({
      ...DEFAULT_TLS_POLICY,
      allowTls13: true,
      minVersion: 'TLSv1.2',
    });
    expect(parseTlsPolicy(undefined, 'config.tls')).toEqual(DEFAULT_TLS_POLICY);
    expect(parseTlsPolicy({}, 'config.tls')).not.toBe(DEFAULT_TLS_POLICY);
  });

  test('overlays a given base (PUT /api/config changes only what it names)', () => {
    const base = { ...DEFAULT_TLS_POLICY, missingSni: 'reject' as const };
    expect(parseTlsPolicy({ inspectionTimeoutMs: 500 }, 'body.tls', base)).toEqual({ ...base, inspectionTimeoutMs: 500 });
  });

  const bad: [unknown, string][] = [
    [[], 'config.tls: must be an object with TLS policy fields (minVersion, allowTls13, requireSniMatch, missingSni, missingClientCertificate, inspectionTimeoutMs, maxBufferBytes), got []'],
    ['TLSv1.2', 'config.tls: must be an object with TLS policy fields (minVersion, allowTls13, requireSniMatch, missingSni, missingClientCertificate, inspectionTimeoutMs, maxBufferBytes), got "TLSv1.2"'],
    [{ minVersion: 'TLSv1.3' }, 'config.tls.minVersion: must be one of "TLSv1", "TLSv1.1", "TLSv1.2" (got "TLSv1.3")'],
    [{ allowTls13: 'yes' }, 'config.tls.allowTls13: must be true or false (got "yes")'],
    [{ missingSni: 'deny' }, 'config.tls.missingSni: must be one of "allow", "reject" (got "deny")'],
    [{ missingClientCertificate: null }, 'config.tls.missingClientCertificate: must be one of "allow", "reject" (got null)'],
    [{ inspectionTimeoutMs: 1.5 }, 'config.tls.inspectionTimeoutMs: must be an integer number of milliseconds from 1 to 600000 (got 1.5)'],
    [{ maxBufferBytes: 100 }, 'config.tls.maxBufferBytes: must be an integer number of bytes from 2048 to 16777216 (got 100)'],
    [
      { maxBuffer: 1 },
      'config.tls.maxBuffer: unknown TLS policy field; allowed fields: minVersion, allowTls13, requireSniMatch, missingSni, missingClientCertificate, inspectionTimeoutMs, maxBufferBytes',
    ],
    [
      JSON.parse('{"__proto__": {"allowTls13": true}}'),
      'config.tls.__proto__: unknown TLS policy field; allowed fields: minVersion, allowTls13, requireSniMatch, missingSni, missingClientCertificate, inspectionTimeoutMs, maxBufferBytes',
    ],
  ];
  test.each(bad)('rejects %j with an InputError naming the field and what is allowed', (value, message) => {
    let error: unknown;
    try {
      parseTlsPolicy(value, 'config.tls');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(message);
  });
});
