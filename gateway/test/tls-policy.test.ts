import { InputError } from '../../lib/errors.js';
import { applyTlsVersionFlags, DEFAULT_TLS_POLICY, parseTlsPolicy, settingToAllow } from '../tls/policy.js';

const FIELD_LIST = 'policy, minVersion, maxVersion, tls13ClientCertificate, requireSniMatch, missingSni, missingClientCertificate, inspectionTimeoutMs, maxBufferBytes';
const VERSIONS = 'TLSv1, TLSv1.1, TLSv1.2, TLSv1.3';

function inputError(fn: () => unknown): Error {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(InputError);
  return error as Error;
}

describe('DEFAULT_TLS_POLICY', () => {
  test('is the current product: TLS 1.0-1.3, TLS 1.3 refused only when a client allowlist must be checked, SNI must match, missing SNI and missing certificate allowed', () => {
    expect(DEFAULT_TLS_POLICY).toEqual({
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.3',
      tls13ClientCertificate: 'reject',
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
    expect(parseTlsPolicy({ maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' }, 'config.tls')).toEqual({
      ...DEFAULT_TLS_POLICY,
      maxVersion: 'TLSv1.2',
      minVersion: 'TLSv1.2',
    });
    expect(parseTlsPolicy(undefined, 'config.tls')).toEqual(DEFAULT_TLS_POLICY);
    expect(parseTlsPolicy({}, 'config.tls')).not.toBe(DEFAULT_TLS_POLICY);
  });

  test('a named policy sets both bounds; explicit bounds given with it win', () => {
    expect(parseTlsPolicy({ policy: 'preview-2016' }, 'config.tls')).toEqual({ ...DEFAULT_TLS_POLICY, minVersion: 'TLSv1', maxVersion: 'TLSv1.2' });
    expect(parseTlsPolicy({ policy: 'preview-2016', minVersion: 'TLSv1.2' }, 'config.tls')).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    const base = { ...DEFAULT_TLS_POLICY, minVersion: 'TLSv1.2' as const, maxVersion: 'TLSv1.2' as const };
    expect(parseTlsPolicy({ policy: 'current' }, 'body.tls', base)).toMatchObject({ minVersion: 'TLSv1', maxVersion: 'TLSv1.3' });
  });

  test('overlays a given base (PUT /api/config changes only what it names)', () => {
    const base = { ...DEFAULT_TLS_POLICY, missingSni: 'reject' as const };
    expect(parseTlsPolicy({ inspectionTimeoutMs: 500 }, 'body.tls', base)).toEqual({ ...base, inspectionTimeoutMs: 500 });
  });

  const bad: [unknown, string][] = [
    [[], `config.tls: must be an object with TLS policy fields (${FIELD_LIST}), got []`],
    ['TLSv1.2', `config.tls: must be an object with TLS policy fields (${FIELD_LIST}), got "TLSv1.2"`],
    [{ minVersion: 'TLSv1.4' }, 'config.tls.minVersion: must be one of "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (got "TLSv1.4")'],
    [{ maxVersion: 'SSLv3' }, 'config.tls.maxVersion: must be one of "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (got "SSLv3")'],
    [{ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }, `config.tls: minVersion TLSv1.3 is above maxVersion TLSv1.2; versions, lowest first: ${VERSIONS}`],
    [{ policy: 'preview-2016', minVersion: 'TLSv1.3' }, `config.tls: minVersion TLSv1.3 is above maxVersion TLSv1.2; versions, lowest first: ${VERSIONS}`],
    [{ policy: '2016' }, 'config.tls.policy: must be one of "current", "preview-2016" (got "2016")'],
    [{ tls13ClientCertificate: 'skip' }, 'config.tls.tls13ClientCertificate: must be one of "allow", "reject" (got "skip")'],
    [
      { allowTls13: true },
      'config.tls.allowTls13: replaced by maxVersion (TLS 1.3 is now allowed by default): write "maxVersion": "TLSv1.3" for true, or "policy": "preview-2016" (or "maxVersion": "TLSv1.2") for false',
    ],
    [{ missingSni: 'deny' }, 'config.tls.missingSni: must be one of "allow", "reject" (got "deny")'],
    [{ missingClientCertificate: null }, 'config.tls.missingClientCertificate: must be one of "allow", "reject" (got null)'],
    [{ inspectionTimeoutMs: 1.5 }, 'config.tls.inspectionTimeoutMs: must be an integer number of milliseconds from 1 to 600000 (got 1.5)'],
    [{ maxBufferBytes: 100 }, 'config.tls.maxBufferBytes: must be an integer number of bytes from 2048 to 16777216 (got 100)'],
    [{ maxBuffer: 1 }, `config.tls.maxBuffer: unknown TLS policy field; allowed fields: ${FIELD_LIST}`],
    [JSON.parse('{"__proto__": {"maxVersion": "TLSv1.2"}}'), `config.tls.__proto__: unknown TLS policy field; allowed fields: ${FIELD_LIST}`],
  ];
  test.each(bad)('rejects %j with an InputError naming the field and what is allowed', (value, message) => {
    expect(inputError(() => parseTlsPolicy(value, 'config.tls')).message).toBe(message);
  });
});

describe('applyTlsVersionFlags (--tls-policy, --tls-min-version, --tls-max-version over the config file)', () => {
  test('a preset, then explicit bounds', () => {
    expect(applyTlsVersionFlags(DEFAULT_TLS_POLICY, { tlsPolicy: 'preview-2016' })).toMatchObject({ minVersion: 'TLSv1', maxVersion: 'TLSv1.2' });
    expect(applyTlsVersionFlags(DEFAULT_TLS_POLICY, { tlsMinVersion: 'TLSv1.2' })).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    const fromFile = { ...DEFAULT_TLS_POLICY, maxVersion: 'TLSv1.2' as const, missingSni: 'reject' as const };
    expect(applyTlsVersionFlags(fromFile, { tlsMaxVersion: 'TLSv1.3' })).toEqual({ ...fromFile, maxVersion: 'TLSv1.3' });
  });

  test.each([
    [{ tlsMinVersion: 'TLSv1.0' }, `--tls-min-version must be one of ${VERSIONS}, got "TLSv1.0"`],
    [{ tlsMaxVersion: '1.3' }, `--tls-max-version must be one of ${VERSIONS}, got "1.3"`],
    [{ tlsPolicy: 'legacy' }, '--tls-policy must be one of current, preview-2016, got "legacy"'],
    [{ tlsMinVersion: 'TLSv1.3', tlsMaxVersion: 'TLSv1.2' }, `--tls-min-version TLSv1.3 --tls-max-version TLSv1.2: the minimum TLS version TLSv1.3 is above the maximum TLSv1.2; versions, lowest first: ${VERSIONS}`],
    [{ tlsPolicy: 'preview-2016', tlsMinVersion: 'TLSv1.3' }, `--tls-policy preview-2016 --tls-min-version TLSv1.3: the minimum TLS version TLSv1.3 is above the maximum TLSv1.2; versions, lowest first: ${VERSIONS}`],
  ])('%j is refused: %s', (flags, message) => {
    expect(inputError(() => applyTlsVersionFlags(DEFAULT_TLS_POLICY, flags)).message).toBe(message);
  });
});

describe('settingToAllow (every 106 names it)', () => {
  const preview = { minVersion: 'TLSv1', maxVersion: 'TLSv1.2' } as const;
  test.each([
    [0x0304, preview, 'to allow TLSv1.3 set tls.maxVersion "TLSv1.3" (--tls-max-version TLSv1.3, or the "current" policy)'],
    [0x0301, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } as const, 'to allow TLSv1 set tls.minVersion "TLSv1" (--tls-min-version TLSv1)'],
    [0x0300, preview, 'no setting allows SSLv3 (the gateway never accepts SSL)'],
    [0x7f1c, preview, 'no setting allows 0x7f1c (not a TLS version)'],
  ])('version 0x%s', (version, policy, text) => {
    expect(settingToAllow(version, policy)).toBe(text);
  });
});
