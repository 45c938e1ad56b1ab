import { checkRecords, compareCounters, type AccuracySample } from '../accuracy.js';
import { countInTable, countSsRows, establishedClientConnections, establishedClientConnectionsViaSs, procAddresses } from '../truth/proc-net.js';
import { SsSession } from '../truth/ss-session.js';

const g = (a: number, c: number, r: number, e: number) => ({ activeClientConnections: a, connectedClients: c, rejectionCount: r, errorCount: e });
const t = (a: number, c: number, r: number, e: number) => ({ openConnections: a, distinctSources: c, rejectionsCaused: r, errorsCaused: e });

test('counters equal to the truth at every quiescent point pass, whatever happens in between', () => {
  const samples: AccuracySample[] = [
    { t: 0, quiescent: true, gateway: g(0, 0, 0, 0), truth: t(0, 0, 0, 0) },
    // In flight: the sample raced a connection opening; informational only.
    { t: 1000, quiescent: false, gateway: g(12, 10, 3, 1), truth: t(10, 10, 3, 1) },
    { t: 2000, quiescent: true, gateway: g(0, 10, 5, 2), truth: t(0, 10, 5, 2) },
  ];
  const r = compareCounters(samples, checkRecords({ created: 100, acknowledged: 100, ingested: 100, dropped: 0, queued: 0 }));
  expect(r.ok).toBe(true);
  expect(r.deviations).toEqual([]);
  const active = r.rows.find((x) => x.counter === 'Active Client Connection')!;
  expect(active).toMatchObject({ gateway: 0, truth: 0, quiescentPoints: 2, quiescentDeviations: 0, maxAbsDeviationAnySample: 2, ok: true });
  expect(r.rows.map((x) => [x.counter, x.gateway, x.truth])).toEqual([
    ['Active Client Connection', 0, 0],
    ['Connected Client', 10, 10],
    ['Rejection Count', 5, 5],
    ['Error Count', 2, 2],
  ]);
});

test('a counter that deviates at a quiescent point is reported and fails the run', () => {
  const samples: AccuracySample[] = [
    { t: 0, quiescent: true, gateway: g(0, 0, 0, 0), truth: t(0, 0, 0, 0) },
    { t: 5000, quiescent: true, label: 'tick 1', gateway: g(1, 4, 7, 0), truth: t(0, 4, 6, 0) },
  ];
  const r = compareCounters(samples);
  expect(r.ok).toBe(false);
  expect(r.deviations).toEqual([
    { t: 5000, label: 'tick 1', counter: 'Active Client Connection', gateway: 1, truth: 0 },
    { t: 5000, label: 'tick 1', counter: 'Rejection Count', gateway: 7, truth: 6 },
  ]);
  expect(r.rows.find((x) => x.counter === 'Rejection Count')).toMatchObject({ quiescentDeviations: 1, ok: false });
  expect(r.rows.find((x) => x.counter === 'Error Count')).toMatchObject({ quiescentDeviations: 0, ok: true });
  expect(r.problems.join('\n')).toMatch(/Active Client Connection differed from harness open connections at 1 of 2 quiescent points/);
});

test('without any quiescent point nothing is proven, so the run fails', () => {
  const r = compareCounters([{ t: 1, quiescent: false, gateway: g(1, 1, 0, 0), truth: t(1, 1, 0, 0) }]);
  expect(r.ok).toBe(false);
  expect(r.problems).toEqual(['no quiescent point was reached, so no counter could be checked']);
});

test('records: lost, dropped or still queued records fail; all ingested passes', () => {
  expect(checkRecords({ created: 10, acknowledged: 10, ingested: 10, dropped: 0, queued: 0 })).toMatchObject({ lost: 0, ok: true });
  expect(checkRecords({ created: 10, acknowledged: 9, ingested: 9, dropped: 0, queued: 0 })).toMatchObject({ lost: 1, ok: false });
  expect(checkRecords({ created: 10, acknowledged: 8, ingested: 8, dropped: 2, queued: 0 })).toMatchObject({ ok: false });
  expect(checkRecords({ created: 10, acknowledged: 8, ingested: 8, dropped: 0, queued: 2 })).toMatchObject({ lost: 0, ok: false });
  const r = compareCounters([{ t: 0, quiescent: true, gateway: g(0, 0, 0, 0), truth: t(0, 0, 0, 0) }], checkRecords({ created: 5, acknowledged: 4, ingested: 4, dropped: 0, queued: 0 }));
  expect(r.ok).toBe(false);
  expect(r.problems[0]).toMatch(/1 record\(s\) lost/);
});

test('kernel socket table: counts ESTABLISHED client sockets to the proxy port only', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1', // listener on 8080
    '   1: 0200007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2', // client -> 8080 established
    '   2: 0300007F:C351 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3',
    '   3: 0100007F:1F90 0200007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4', // gateway side
    '   4: 0400007F:C352 0100007F:1F90 06 00000000:00000000 00:00000000 00000000     0        0 5', // TIME_WAIT
    '   5: 0500007F:C353 0100007F:1F91 01 00000000:00000000 00:00000000 00000000     0        0 6', // other port
    '   6: 0200007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2', // row 1 listed twice (non-atomic read)
    '   7: 0100007F:1F90 030B007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 7', // gateway side of a client whose source port is also 8080
  ].join('\n');
  expect(procAddresses('127.0.0.1', 8080)).toEqual(['0100007F:1F90', '0000000000000000FFFF00000100007F:1F90']);
  expect(countInTable(table, procAddresses('127.0.0.1', 8080))).toBe(2);
  // One shard's agents only (127.0.x.x here; a shard k uses 127.(9+k).x.x): row 2 is 127.0.0.3, in; 127.11/16 has none.
  expect(countInTable(table, procAddresses('127.0.0.1', 8080), [127, 0])).toBe(2);
  expect(countInTable(table + '\n   8: 05000B7F:C354 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 8', procAddresses('127.0.0.1', 8080), [127, 11])).toBe(1);
  expect(countInTable(table, procAddresses('127.0.0.1', 8080), [127, 11])).toBe(0);
});

test('ss output: established rows to the proxy (IPv4 or IPv4-mapped), de-duplicated, optionally one /16 of sources', () => {
  const out = [
    '0      0      127.10.0.1:40000   127.0.0.1:8080',
    '0      0      127.10.0.1:40000   127.0.0.1:8080', // listed twice (a dump taken while sockets change)
    '0      0      [::ffff:127.11.0.2]:40001   [::ffff:127.0.0.1]:8080',
    '0      0      127.10.0.3:40002   127.0.0.2:8080', // another proxy address
    '',
  ].join('\n');
  const peers = ['127.0.0.1:8080', '[::ffff:127.0.0.1]:8080'];
  expect(countSsRows(out, peers)).toBe(2);
  expect(countSsRows(out, peers, ['127.10.', '[::ffff:127.10.'])).toBe(1);
  expect(countSsRows(out, peers, ['127.11.', '[::ffff:127.11.'])).toBe(1);
});

test('ss and /proc/net/tcp agree on real sockets held open to a listener', async () => {
  const { createServer, connect } = await import('node:net');
  const server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sockets = await Promise.all([1, 2, 3].map((i) => new Promise<import('node:net').Socket>((r) => { const s = connect({ port, host: '127.0.0.1', localAddress: `127.12.0.${i}` }, () => r(s)); })));
  try {
    expect(await establishedClientConnectionsViaSs(port, '127.0.0.1')).toBe(3);
    expect(establishedClientConnections(port, '127.0.0.1')).toBe(3);
    expect(await establishedClientConnectionsViaSs(port, '127.0.0.1', [127, 12])).toBe(3);
    expect(await establishedClientConnectionsViaSs(port, '127.0.0.1', [127, 13])).toBe(0);
    // The long-lived session gives the same counts, read after read.
    const session = new SsSession();
    session.start();
    try {
      expect(await session.established(port, '127.0.0.1')).toBe(3);
      expect(await session.established(port, '127.0.0.1', [127, 12])).toBe(3);
      expect(await session.established(port, '127.0.0.1', [127, 13])).toBe(0);
      sockets[0]!.destroy();
      await new Promise((r) => sockets[0]!.once('close', r));
      expect(await session.established(port, '127.0.0.1')).toBe(2);
      expect(await session.read(0)).toBeUndefined();
    } finally {
      session.close();
    }
    // Closed: reads fall back to /proc/net/tcp, which still sees the two.
    expect(await session.read(port)).toBeUndefined();
    expect(await session.established(port, '127.0.0.1')).toBe(2);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});
