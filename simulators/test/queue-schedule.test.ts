import { ManualClock } from '../../lib/clock.js';
import { Backoff, Ledger, assertLedgerInvariant } from '../agent-core/index.js';
import { labAgentMaker, labOdsPosts, untilSocketWork, useWireLab } from './helpers/wire-lab.js';

const WS = '6f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const KEY = Buffer.from('queue test key').toString('base64');

describe('Ledger', () => {
  const make = (limit = 100) => new Ledger({ agentGuid: 'g', queueLimit: limit, now: () => 0 });

  test('batches take the oldest records of one data type; requeue keeps creation order', () => {
    const l = make();
    l.create('A', {});
    l.create('B', {});
    l.create('A', {});
    const b1 = l.takeBatch(10);
    expect(b1.map((r) => r.id)).toEqual(['g:1', 'g:3']);
    expect(l.summary()).toMatchObject({ created: 3, queued: 3, inFlight: 2, sent: 2 });
    l.requeue(b1);
    expect(l.takeBatch(1).map((r) => r.id)).toEqual(['g:1']);
    expect(l.takeBatch(5).map((r) => r.id)).toEqual(['g:2']);
    expect(l.takeBatch(5).map((r) => r.id)).toEqual(['g:3']);
    assertLedgerInvariant(l.summary());
  });

  test('acknowledged and dropped records leave the queue; the invariant holds at every step', () => {
    const l = make(3);
    for (let i = 0; i < 5; i++) l.create('A', { i });
    expect(l.summary()).toMatchObject({ created: 5, queued: 3, dropped: { 'queue-full': 2 } });
    const b = l.takeBatch(2);
    l.acknowledge(b);
    expect(b.every((r) => r.item === undefined && r.state === 'acknowledged')).toBe(true);
    l.drop(l.takeBatch(1), 'retry-limit');
    expect(l.summary()).toEqual({ created: 5, sent: 3, acknowledged: 2, queued: 0, inFlight: 0, dropped: { 'queue-full': 2, 'retry-limit': 1 } });
    assertLedgerInvariant(l.summary());
    expect(() => assertLedgerInvariant({ created: 5, sent: 0, acknowledged: 1, queued: 1, inFlight: 0, dropped: { x: 1 } })).toThrow(/created 5 != acknowledged 1 \+ queued 1 \+ dropped 1/);
  });

  test('records are found by id and listed in creation order; markSent and drop take exactly the records given', () => {
    const l = make();
    const recs = ['A', 'B', 'A', 'B'].map((t) => l.create(t, {}));
    expect(l.get('g:3')).toBe(recs[2]);
    for (const id of ['g:0', 'g:5', 'h:1', 'g:x', 'g']) expect(l.get(id)).toBeUndefined();
    expect([...l.records()].map((r) => r.id)).toEqual(['g:1', 'g:2', 'g:3', 'g:4']);
    l.markSent([recs[1]!]);
    l.drop([recs[2]!], 'queue-full');
    expect(l.waitingCount).toBe(2);
    expect(l.takeBatch(10)).toEqual([recs[0]]);
    expect(l.takeBatch(10)).toEqual([recs[3]]);
    expect(l.summary()).toMatchObject({ created: 4, sent: 3, inFlight: 3, queued: 3, dropped: { 'queue-full': 1 } });
  });
});

describe('Backoff', () => {
  test('doubles up to the cap, with bounded jitter, reproducibly; Retry-After wins when longer', () => {
    let x = 0.5;
    const b = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0.2, random: () => x });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([1000, 2000, 4000, 8000, 8000]);
    b.reset();
    x = 0;
    expect(b.next()).toBe(800);
    x = 0.999999;
    expect(b.next()).toBe(2400);
    expect(b.next(60_000)).toBe(60_000);
    expect(b.next(10)).toBeGreaterThan(10);
  });

  test('a Retry-After longer than a timer can wait is capped, never turned into an immediate retry', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0, random: () => 0.5 });
    expect(b.next(99_999_999_999 * 1000)).toBe(2 ** 31 - 1);
  });
});

describe('agent schedules on a ManualClock', () => {
  const lab = useWireLab();
  const make = labAgentMaker(lab, { workspaceId: WS, workspaceKey: KEY, seed: 9 });
  const odsPosts = () => labOdsPosts(lab);
  const until = untilSocketWork;

  test('Linux: while the agent service is refused, data is created on schedule and stays queued; once allowed, all of it is delivered', async () => {
    const clock = new ManualClock();
    lab.proxy.refuse = (t) => (t.startsWith('scus-agentservice-prod-1.azure-automation.net') ? '403 Forbidden' : undefined);
    const a = make('linux', clock, { retry: { onboardInitialMs: 60_000, onboardMaxMs: 120_000, jitter: 0 } });
    a.start();
    await a.waitFor((s) => s.state === 'retrying' && s.lastFailure?.phase === 'agent-service');
    expect(a.status()).toMatchObject({ state: 'retrying', onboarded: true, agentServiceRegistered: false });
    const firstRetry = a.status().nextRetryAt!;
    expect(firstRetry - clock.now()).toBe(60_000);
    for (let i = 0; i < 5; i++) {
      await clock.advance(60_000);
      await until(() => a.status().state === 'retrying' && lab.proxy.seen.filter((s) => s.target.startsWith('scus')).length >= 2, 'a refused retry');
    }
    const refusedCalls = lab.proxy.seen.filter((s) => s.target.startsWith('scus')).length;
    expect(refusedCalls).toBeGreaterThanOrEqual(3); // first try plus retries at 60 s, then every 120 s
    expect(refusedCalls).toBeLessThanOrEqual(5);
    const st = a.status();
    expect(st.created).toBeGreaterThan(20);
    expect(st.queued).toBe(st.created);
    expect(st.delivered).toBe(0);
    expect(odsPosts()).toHaveLength(0);
    expect(st.lastError).toMatch(/^Proxy CONNECT refused: 403 Forbidden/);

    lab.proxy.refuse = () => undefined;
    await clock.advanceTo(a.status().nextRetryAt!);
    const done = await a.waitFor((s) => s.agentServiceRegistered === true && s.queued === 0);
    expect(done.delivered).toBe(done.created); // everything queued during the outage, and what was created since
    expect(done.created).toBeGreaterThanOrEqual(st.created);
    expect(lab.cloud.recordIds().sort()).toEqual([...a.ledger.records()].map((r) => r.id).sort());
    assertLedgerInvariant(a.summary());
  });

  test('upload failures back off, honour Retry-After, and deliver later without loss', async () => {
    const clock = new ManualClock();
    let refusals = 2;
    lab.cloud.reply = (req) => (req.path.includes('PostJsonDataItems') && refusals-- > 0 ? { status: 503, headers: { 'retry-after': '300' }, body: 'busy' } : undefined);
    const a = make('windows', clock, { behavior: 'ideal', retry: { uploadInitialMs: 30_000, jitter: 0 }, schedule: { topologyHeartbeatMs: 0 } });
    a.start();
    await a.waitFor({ onboarded: true });
    await clock.advance(60_000); // first collection
    await a.waitFor({ failed: 'upload' });
    await until(() => a.status().state === 'retrying', 'retrying state');
    expect(a.status().lastFailure).toMatchObject({ phase: 'upload', statusCode: 503, kind: 'http' });
    expect(a.status().lastError).toMatch(/^HTTP Error: \(request-id=[0-9a-f-]+; code=503; message=Service Unavailable; body=busy;\)$/);
    const failedAt = clock.now();
    expect(a.status().nextRetryAt).toBe(failedAt + 300_000);
    // Each check below waits for the agent to settle (no work in flight) rather than for real time,
    // and each "no post yet" is followed, on the same clock, by the post it holds back.
    await a.settled();
    let posts = odsPosts().length;
    await clock.advance(240_000); // collections at +60..+240 must not upload before Retry-After
    await a.settled();
    expect(odsPosts().length).toBe(posts);
    expect(a.status().queued).toBeGreaterThan(0); // there was something to upload
    await clock.advance(60_000); // 300 s after the failure: the retry, refused again
    await a.settled();
    expect(odsPosts().length).toBe(posts + 1);
    expect(a.status().nextRetryAt).toBe(failedAt + 600_000);
    posts = odsPosts().length;
    await clock.advance(299_000);
    await a.settled();
    expect(odsPosts().length).toBe(posts);
    await clock.advance(1_000);
    await a.settled();
    expect(odsPosts().length).toBeGreaterThan(posts);
    await a.waitFor((s) => s.queued === 0);
    expect(a.status().state).toBe('running');
    const s = a.summary();
    expect(s.acknowledged).toBe(s.created);
    expect(s.sent).toBeGreaterThan(s.created); // some records were sent more than once
    expect(new Set(lab.cloud.recordIds()).size).toBe(s.created);
  });

  test('a Retry-After from a flush() failure while a backoff timer is pending still ends in a retry at the Retry-After time', async () => {
    const clock = new ManualClock();
    const replies = [{ status: 503, body: 'first' }, { status: 503, headers: { 'retry-after': '300' }, body: 'second' }];
    lab.cloud.reply = (req) => (req.path.includes('PostJsonDataItems') ? replies.shift() : undefined);
    // No collection or heartbeat timers: only the upload retry can move the queue.
    const a = make('windows', clock, { behavior: 'ideal', retry: { uploadInitialMs: 30_000, jitter: 0 }, schedule: { collectIntervalMs: 0, topologyHeartbeatMs: 0 } });
    a.start();
    await a.waitFor({ onboarded: true });
    // runOnce: the scheduled pump fails (backoff 30 s, timer set), then flush() fails with Retry-After 300.
    await expect(a.runOnce()).rejects.toThrow(/code=503/);
    const failedAt = clock.now();
    expect(a.status().nextRetryAt).toBe(failedAt + 300_000);
    expect(odsPosts()).toHaveLength(2);
    // "No post" is judged once the agent has settled after each step of the clock, and the same
    // observation sees the retry at exactly the Retry-After time.
    await clock.advance(30_000); // the older backoff timer fires: it must not post, nor forget the retry
    await a.settled();
    expect(odsPosts()).toHaveLength(2);
    expect(a.status().nextRetryAt).toBe(failedAt + 300_000);
    await clock.advance(269_999);
    await a.settled();
    expect(odsPosts()).toHaveLength(2);
    await clock.advance(1);
    await a.settled();
    expect(odsPosts()).toHaveLength(4); // the retried event batch, then the perf batch
    const done = await a.waitFor((s) => s.queued === 0, { timeoutMs: 5000 });
    expect(done.delivered).toBe(done.created);
    expect(done.created).toBeGreaterThan(0);
    assertLedgerInvariant(a.summary());
  });

  test('queue limit: records beyond it are dropped as queue-full and counted, never lost from the books', async () => {
    const clock = new ManualClock();
    lab.proxy.refuse = () => '503 Service Unavailable';
    const a = make('windows', clock, { queueLimit: 10, volume: { perfSamples: 3, logRows: 1 }, retry: { onboardInitialMs: 600_000, onboardMaxMs: 600_000 } });
    a.start();
    await a.waitFor({ failed: 'onboard' });
    expect(a.status().lastFailure).toMatchObject({ kind: 'proxy-refused', proxyStatus: 503 });
    await clock.advance(4 * 60_000); // 4 ticks x 4 records
    const s = a.summary();
    expect(s).toMatchObject({ created: 16, queued: 10, acknowledged: 0, dropped: { 'queue-full': 6 } });
    assertLedgerInvariant(s);
  });

  test('a direct onboard() while a retry is scheduled cancels the retry', async () => {
    const clock = new ManualClock();
    lab.proxy.refuse = () => '502 Bad Gateway';
    const a = make('windows', clock, { retry: { onboardInitialMs: 600_000, jitter: 0 } });
    a.start();
    await a.waitFor((s) => s.state === 'retrying');
    expect(a.status().nextRetryAt).toBe(clock.now() + 600_000);
    lab.proxy.refuse = () => undefined;
    await a.onboard();
    expect(a.status()).toMatchObject({ state: 'running', onboarded: true, nextRetryAt: undefined, lastCallFailed: false });
    const calls = lab.cloud.seen.length;
    await clock.advance(600_000); // no second onboarding at the old retry time (collections and heartbeats only)
    await new Promise((r) => setTimeout(r, 50));
    expect(lab.cloud.seen.slice(calls).filter((s) => s.headers.authorization !== undefined)).toEqual([]);
  });

  test('retryLimit: a batch refused that many times is dropped as retry-limit, counted and reported, never half-lost', async () => {
    const clock = new ManualClock();
    lab.cloud.reply = (req) => (req.path.includes('PostJsonDataItems') ? { status: 500, body: 'broken' } : undefined);
    const a = make('windows', clock, { behavior: 'ideal', retry: { retryLimit: 2, uploadInitialMs: 1000, jitter: 0 }, schedule: { collectIntervalMs: 0, topologyHeartbeatMs: 0 } });
    const reported: number[] = [];
    a.on('dropped', (d) => reported.push(d.reason === 'retry-limit' ? d.count : NaN));
    a.start();
    await a.waitFor({ onboarded: true });
    await expect(a.runOnce()).rejects.toThrow(/code=500/);
    for (let i = 0; i < 10 && a.summary().queued > 0; i++) {
      await clock.advance(10_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    const s = a.summary();
    expect(s.created).toBeGreaterThan(0);
    expect(s).toMatchObject({ acknowledged: 0, queued: 0, inFlight: 0, dropped: { 'retry-limit': s.created } });
    expect(reported.reduce((x, y) => x + y, 0)).toBe(s.created);
    const records = [...a.ledger.records()];
    expect(records.map((r) => [r.state, r.attempts, r.dropReason])).toEqual(records.map(() => ['dropped', 2, 'retry-limit']));
    // Windows makes two data types per tick, one post per type, each sent twice.
    expect(odsPosts()).toHaveLength(4);
    assertLedgerInvariant(s);
  });

  test('close() during an upload on its last allowed attempt keeps the batch queued, not dropped as retry-limit', async () => {
    const clock = new ManualClock();
    const a = make('windows', clock, { retry: { retryLimit: 1 }, schedule: { topologyHeartbeatMs: 0 } });
    a.start();
    await a.waitFor({ onboarded: true });
    lab.proxy.refuse = (t) => (t.includes('.ods.') ? 'hang' : undefined);
    await clock.advance(60_000); // one collection: the upload's CONNECT hangs
    await until(() => lab.proxy.seen.some((s) => s.target.includes('.ods.')), 'the upload CONNECT');
    await a.close();
    const s = a.summary();
    expect(s.created).toBeGreaterThan(0);
    expect(s.dropped).toEqual({});
    expect(s).toMatchObject({ queued: s.created, inFlight: 0, acknowledged: 0 });
    assertLedgerInvariant(s);
  });

  test('close() stops timers and keeps queued records queued', async () => {
    const clock = new ManualClock();
    lab.proxy.refuse = () => '403 Forbidden';
    const a = make('linux', clock);
    a.start();
    await a.waitFor({ failed: 'onboard' });
    await clock.advance(120_000);
    const before = a.summary();
    await a.close();
    expect(clock.pendingTimers()).toBe(0);
    expect(a.status().state).toBe('stopped');
    expect(a.summary()).toEqual(before);
    expect(before.queued).toBe(before.created);
  });
});
