import { ManualClock } from '../../lib/clock.js';
import { AgentError, AgentTimers, assertLedgerInvariant, Backoff, BEHAVIOR_MODELS, ChunkPump, Ledger, retryWaitMs, type ChunkModel, type LedgerRecord, type PumpHost } from '../agent-core/index.js';

/** A pump on a manual clock whose posts succeed or fail as the test says: no sockets, exact times. */
function rig(model: ChunkModel, random: () => number = () => 0.5) {
  const clock = new ManualClock(0);
  const ledger = new Ledger({ agentGuid: 'g', queueLimit: Number.MAX_SAFE_INTEGER, now: () => clock.now() });
  const posts: { t: number; ids: string[] }[] = [];
  const drops: { t: number; reason: string; ids: string[] }[] = [];
  let failing: (batch: LedgerRecord[]) => boolean = () => true;
  const host: PumpHost = {
    clock,
    timers: new AgentTimers(clock),
    ledger,
    backoff: new Backoff({ initialMs: 1, maxMs: 1, random }),
    batchSize: 500,
    honourRetryAfter: false,
    upload: async (batch) => {
      posts.push({ t: clock.now(), ids: batch.map((r) => r.id) });
      // The cloud asks for 5 minutes; the chunked models do not listen.
      if (failing(batch)) throw new AgentError('HTTP Error: (code=429)', 'http', { statusCode: 429, retryAfterMs: 300_000 });
    },
    mayUpload: () => true,
    started: () => true,
    closed: () => false,
    delivered: () => undefined,
    failed: () => undefined,
    dropped: (reason, _count, records) => void drops.push({ t: clock.now(), reason, ids: records.map((r) => r.id) }),
  };
  const pump = new ChunkPump(host, model, random);
  const add = (n: number, dataType = 'LINUX_PERF_BLOB'): LedgerRecord[] => {
    const recs = Array.from({ length: n }, () => ledger.create(dataType, { v: 'x'.repeat(10) }));
    pump.accept(recs);
    return recs;
  };
  return { clock, ledger, posts, drops, pump, add, setFailing: (f: boolean | ((batch: LedgerRecord[]) => boolean)) => void (failing = typeof f === 'function' ? f : () => f) };
}

const s = 1000;
const omsagent = BEHAVIOR_MODELS.omsagent.chunks!;
const mma = BEHAVIOR_MODELS.mma.chunks!;

describe('omsagent model (fluentd 0.12 BufferedOutput, out_oms settings)', () => {
  test('parameters as in omsagent.conf / out_oms: 15 MB chunks, 10 queued, 30 s doubling to 30 min, ±12.5 %, retry_limit 6, flush every 20 s, no Retry-After', () => {
    expect(omsagent).toMatchObject({ chunkLimitBytes: 15 * 1024 * 1024, queueLimitChunks: 10, retryWaitMs: 30 * s, maxRetryWaitMs: 1800 * s, jitter: 0.125, retryLimit: 6, flushIntervalMs: 20 * s, retryCounting: 'fluentd' });
    expect(BEHAVIOR_MODELS.omsagent.honourRetryAfter).toBe(false);
    // calc_retry_wait: retry_wait * 2^(n-1) + rand * wait/4 - wait/8, capped by max_retry_wait.
    expect([1, 2, 3, 4, 5, 6].map((n) => retryWaitMs(omsagent, n, () => 0.5))).toEqual([30, 60, 120, 240, 480, 960].map((x) => x * s));
    expect(retryWaitMs(omsagent, 1, () => 0)).toBe(26_250);
    expect(retryWaitMs(omsagent, 1, () => 0.999999)).toBe(33_750);
    expect(retryWaitMs(omsagent, 9, () => 0.5)).toBe(1800 * s); // 7680 s capped at 30 min
  });

  test('a failing chunk is tried six times (at 20, 50, 110, 230, 470, 950 s), ignoring Retry-After, then the queue is thrown away as retry-limit; records staged meanwhile survive', async () => {
    const r = rig(omsagent);
    const first = r.add(5);
    await r.clock.advance(20 * s); // flush tick: the staged chunk is queued and posted
    expect(r.posts.map((p) => p.t)).toEqual([20 * s]);
    const later = r.add(3); // while retrying: staged, not queued (the queue is not empty)
    await r.clock.advance(929 * s); // t = 949 s: five attempts, nothing dropped yet (the control for what follows)
    expect(r.posts.map((p) => p.t / s)).toEqual([20, 50, 110, 230, 470]);
    expect(r.drops).toEqual([]);
    await r.clock.advance(1 * s); // t = 950 s: the sixth attempt fails: "retry count exceededs limit", write_abort
    expect(r.posts.map((p) => p.t / s)).toEqual([20, 50, 110, 230, 470, 950]);
    expect(r.drops).toEqual([{ t: 950 * s, reason: 'retry-limit', ids: first.map((x) => x.id) }]);
    expect(first.map((x) => [x.state, x.dropReason, x.attempts])).toEqual(first.map(() => ['dropped', 'retry-limit', 6]));
    expect(later.map((x) => x.state)).toEqual(['queued', 'queued', 'queued']);
    assertLedgerInvariant(r.ledger.summary());
    // The writer sleeps until the planned next retry (20 + 30 + ... + 960 = 1910 s), then the staged chunk goes.
    r.setFailing(false);
    await r.clock.advance(959 * s);
    expect(r.posts).toHaveLength(6);
    await r.clock.advance(1 * s);
    expect(r.posts.map((p) => p.t / s)).toEqual([20, 50, 110, 230, 470, 950, 1910]);
    expect(later.map((x) => x.state)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    expect(r.ledger.summary()).toMatchObject({ created: 8, acknowledged: 3, queued: 0, dropped: { 'retry-limit': 5 } });
    assertLedgerInvariant(r.ledger.summary());
  });

  test('an outage shorter than the six attempts loses nothing: the fifth attempt succeeds and the count resets', async () => {
    const r = rig(omsagent);
    r.add(5);
    await r.clock.advance(460 * s);
    expect(r.posts).toHaveLength(4);
    r.setFailing(false);
    await r.clock.advance(10 * s); // t = 470 s: the fifth attempt
    expect(r.drops).toEqual([]);
    expect(r.ledger.summary()).toMatchObject({ created: 5, acknowledged: 5, queued: 0, dropped: {} });
    r.setFailing(true);
    r.add(1);
    await r.clock.advance(20 * s); // next flush tick: a new first failure, waits start again at 30 s
    const t0 = r.posts[r.posts.length - 1]!.t;
    await r.clock.advance(30 * s);
    expect(r.posts[r.posts.length - 1]!.t - t0).toBe(30 * s);
  });

  test('a chunk mixes data types: when its second post fails the whole chunk is sent again (at-least-once), the mma model keys chunks by data type', async () => {
    const r = rig(omsagent);
    const perf = r.add(2, 'LINUX_PERF_BLOB');
    const sys = r.add(2, 'LINUX_SYSLOGS_BLOB');
    r.setFailing((batch) => batch[0]!.dataType === 'LINUX_SYSLOGS_BLOB');
    await r.clock.advance(20 * s);
    expect(r.posts.map((p) => p.ids)).toEqual([perf.map((x) => x.id), sys.map((x) => x.id)]);
    r.setFailing(false);
    await r.clock.advance(30 * s);
    expect(r.posts.map((p) => p.ids)).toEqual([perf.map((x) => x.id), sys.map((x) => x.id), perf.map((x) => x.id), sys.map((x) => x.id)]);
    expect([...perf, ...sys].map((x) => [x.state, x.attempts])).toEqual([...perf, ...sys].map(() => ['acknowledged', 2]));
    // Control: keyed by data type (mma), the failing type does not take the other with it.
    const m = rig(mma);
    const mPerf = m.add(2, 'WINDOWS_PERF_BLOB');
    const mEvents = m.add(2, 'GENERIC_EVENT_BLOB');
    m.setFailing((batch) => batch[0]!.dataType === 'GENERIC_EVENT_BLOB');
    await m.clock.advance(20 * s);
    m.setFailing(false);
    await m.clock.advance(30 * s);
    expect(mPerf.map((x) => [x.state, x.attempts])).toEqual([['acknowledged', 1], ['acknowledged', 1]]);
    expect(mEvents.map((x) => [x.state, x.attempts])).toEqual([['acknowledged', 2], ['acknowledged', 2]]);
  });

  test('jitter follows the seeded stream: each wait is within ±12.5 % of the nominal one', async () => {
    const values = [0, 0.999, 0.25, 0.75, 0.5];
    let i = 0;
    const r = rig(omsagent, () => values[i++ % values.length]!);
    r.add(1);
    await r.clock.advance(1000 * s);
    const gaps = r.posts.slice(1).map((p, k) => p.t - r.posts[k]!.t);
    expect(gaps).toEqual([26_250, 67_485, 112_500, 255_000, 480_000]);
    for (const [k, g] of gaps.entries()) expect(Math.abs(g / (30 * s * 2 ** k) - 1)).toBeLessThanOrEqual(0.125);
  });

  test('queue full: buffer_queue_full_action drop_oldest_chunk drops the oldest chunk not being posted, as queue-full', async () => {
    const r = rig({ ...omsagent, chunkLimitBytes: 40, queueLimitChunks: 2 }); // about two records per chunk
    const recs = r.add(2);
    await r.clock.advance(20 * s); // chunk 1 queued, posted, failing
    const more = r.add(6); // chunks 2, 3 fill the queue; chunk 4 pushes out the oldest not in flight
    await r.clock.advance(1);
    expect(r.drops.map((d) => d.reason)).toEqual(['queue-full']);
    expect(r.drops[0]!.ids).toEqual(recs.map((x) => x.id)); // chunk 1 (not in flight between attempts) was the oldest
    expect(more.filter((x) => x.state === 'dropped')).toEqual([]);
    assertLedgerInvariant(r.ledger.summary());
  });
});

describe('mma model (documented MMA cache)', () => {
  test('parameters: 20 s upload, 30 s doubling to 9 min, 10 retries per chunk, 100 MB cache dropping the oldest', () => {
    expect(mma).toMatchObject({ flushIntervalMs: 20 * s, retryWaitMs: 30 * s, maxRetryWaitMs: 540 * s, retryLimit: 10, retryCounting: 'per-chunk', queueLimitBytes: 100 * 1024 * 1024 });
    expect(BEHAVIOR_MODELS.mma.honourRetryAfter).toBe(false);
  });

  test('a chunk is retried 10 times (waits 30, 60, 120, 240, 480, then 540 s), then dropped alone; the next chunk is tried at once', async () => {
    const r = rig(mma);
    const first = r.add(2);
    await r.clock.advance(20 * s);
    const second = r.add(2); // queued on the next tick (every tick queues in this model)
    const nominal = [30, 60, 120, 240, 480, 540, 540, 540, 540, 540];
    const dropAt = 20 + nominal.reduce((a, b) => a + b, 0); // 3650 s
    await r.clock.advance((dropAt - 21) * s);
    expect(r.drops).toEqual([]); // control: not before the tenth retry
    const firstPosts = r.posts.filter((p) => p.ids.includes(first[0]!.id)).map((p) => p.t / s);
    expect(firstPosts).toHaveLength(10);
    await r.clock.advance(1 * s);
    expect(r.drops).toEqual([{ t: dropAt * s, reason: 'retry-limit', ids: first.map((x) => x.id) }]);
    expect(r.posts.filter((p) => p.ids.includes(first[0]!.id)).map((p) => p.t / s)).toEqual([20, ...nominal.map((_, k) => 20 + nominal.slice(0, k + 1).reduce((a, b) => a + b, 0))]);
    expect(r.posts[r.posts.length - 1]!.ids).toEqual(second.map((x) => x.id)); // the next chunk goes straight away
    expect(second.map((x) => x.state)).toEqual(['queued', 'queued']);
    assertLedgerInvariant(r.ledger.summary());
  });

  test('cache limit: when the buffer exceeds its bytes the oldest chunk is dropped as queue-full', async () => {
    const r = rig({ ...mma, queueLimitBytes: 100 });
    const a = r.add(2);
    await r.clock.advance(20 * s); // chunk of a: posted, failing
    r.add(2);
    await r.clock.advance(20 * s); // chunk of b queued
    r.add(2); // 6 records x ~20 bytes > 100
    expect(r.drops.map((d) => d.reason)).toEqual(['queue-full']);
    expect(r.drops[0]!.ids).toEqual(a.map((x) => x.id));
    assertLedgerInvariant(r.ledger.summary());
  });
});
