import { isInputError } from '../../lib/errors.js';
import { bindRangeSize, createFleet, formatFleetStatus, formatLedger, parseBindRange, parseDuration, splitMix, type FleetStatus } from '../agent-core/index.js';

describe('parseBindRange', () => {
  test('usable loopback addresses, network and broadcast left out', () => {
    const r = parseBindRange('127.0.1.0/24');
    expect(r.addresses).toHaveLength(254);
    expect(r.addresses[0]).toBe('127.0.1.1');
    expect(r.addresses.at(-1)).toBe('127.0.1.254');
    expect(parseBindRange('127.9.9.8/31').addresses).toEqual(['127.9.9.8', '127.9.9.9']);
    expect(parseBindRange('127.9.9.9/32').addresses).toEqual(['127.9.9.9']);
    expect(parseBindRange('127.0.0.0/16').addresses).toHaveLength(65_534);
    expect(bindRangeSize('127.0.1.0/24')).toBe(254);
  });

  test.each([
    ['10.0.0.0/24', /not on loopback/],
    ['192.168.1.0/24', /not on loopback/],
    ['127.0.1.0/7', /between 8 and 32/],
    ['127.0.1.1/24', /did you mean 127\.0\.1\.0\/24/],
    ['127.0.1.256/32', /not an IPv4 address/],
    ['::1/128', /not a CIDR block/],
    ['127.0.1.0', /not a CIDR block/],
  ])('%s is refused', (cidr, msg) => {
    let err: unknown;
    try {
      parseBindRange(cidr);
    } catch (e) {
      err = e;
    }
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toMatch(msg);
  });
});

describe('createFleet options', () => {
  test.each([
    [{ concurrency: 0 }, /concurrency must be a whole number >= 1, got 0/],
    [{ concurrency: 2.5 }, /concurrency must be a whole number >= 1, got 2.5/],
    [{ keyPoolSize: 0 }, /keyPoolSize must be a whole number >= 1, got 0/],
  ])('%j is an InputError (0 used to make onboardAll do nothing and report no failures)', (extra, msg) => {
    let err: unknown;
    try {
      createFleet({ count: 2, os: 'windows', workspaceId: '6f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b', workspaceKey: 'AAAAAAAAAAAAAAAAAAAAAA==', proxy: '127.0.0.1:1', caPem: '-----BEGIN CERTIFICATE-----', seed: 1, ...extra });
    } catch (e) {
      err = e;
    }
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toMatch(msg);
  });
});

describe('splitMix', () => {
  test('proportional, interleaved, exact count', () => {
    expect(splitMix(4, { windows: 1, linux: 1 })).toEqual(['windows', 'linux', 'windows', 'linux']);
    const m = splitMix(10, { windows: 3, linux: 1 });
    expect(m.filter((o) => o === 'windows')).toHaveLength(8); // 7.5 rounds up by largest remainder, ties to the first
    expect(m).toHaveLength(10);
    expect(splitMix(3, { linux: 5 })).toEqual(['linux', 'linux', 'linux']);
    expect(() => splitMix(3, { windows: 0 })).toThrow(/positive weight/);
    expect(() => splitMix(3, { macos: 1 } as never)).toThrow(/unknown OS "macos"/);
  });
});

describe('parseDuration', () => {
  test.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1500ms', 1500],
    ['2m30s', 150_000],
    ['0.5s', 500],
  ])('%s', (t, ms) => expect(parseDuration(t)).toBe(ms));
  test.each(['', '10', 'ten minutes', '10 m', '0s', '-5s', '5d'])('%j is refused', (t) => expect(() => parseDuration(t)).toThrow(/is not a duration/));
});

describe('status and ledger lines', () => {
  const totals = { agents: 2, onboarded: 2, registered: 0, created: 10, queued: 10, delivered: 0, dropped: 0, errors: 4, failing: 2 };
  const status: FleetStatus = { agents: 2, byOs: { linux: totals }, total: totals, lastErrors: [{ message: 'Proxy CONNECT refused: 403 Forbidden', agents: 2 }] };

  test('one line per OS, then the most common last errors', () => {
    expect(formatFleetStatus(status, '00:05')).toEqual([
      '[00:05] linux   agents   2  onboarded     2  registered     0  queued    10  delivered     0  dropped     0  errors     4',
      '  last error (2 agents): Proxy CONNECT refused: 403 Forbidden',
    ]);
  });

  test('the ledger line checks the invariant', () => {
    expect(formatLedger('ledger', { created: 5, sent: 7, acknowledged: 3, queued: 1, inFlight: 0, dropped: { 'queue-full': 1 } })).toEqual([
      'ledger: created 5, acknowledged 3, queued 1, dropped 1 (queue-full 1); transmissions 7',
      '  created = acknowledged + queued + dropped: 5 = 3 + 1 + 1 ok',
    ]);
    expect(formatLedger('x', { created: 5, sent: 0, acknowledged: 3, queued: 1, inFlight: 0, dropped: {} })[1]).toMatch(/MISMATCH$/);
  });
});
