import { ManualClock } from '../../lib/clock.js';
import { IdleSweep, type Sweepable } from '../idle-sweep.js';

function member(log: string[], name: string): Sweepable {
  return { active: false, quietSince: 0, expire: () => log.push(`${name}@${clockNow()}`) };
}

let clock: ManualClock;
const T0 = Date.UTC(2016, 2, 1, 9, 0, 0);
function clockNow(): number {
  return clock.now() - T0;
}

beforeEach(() => {
  clock = new ManualClock(T0);
});

describe('IdleSweep: one timer closes every member that has been quiet for the timeout', () => {
  test('a quiet member expires after the timeout, not before, and within 1.2 timeouts', async () => {
    const expired: string[] = [];
    const sweep = new IdleSweep(clock, 1000);
    sweep.add(member(expired, 'a'));
    await clock.advance(999);
    expect(expired).toEqual([]);
    await clock.advance(201);
    expect(expired).toEqual(['a@1000']);
    expect(sweep.size).toBe(0);
  });

  test('traffic (the active flag) keeps a member open; it expires a timeout after its last traffic', async () => {
    const expired: string[] = [];
    const sweep = new IdleSweep(clock, 1000);
    const busy = member(expired, 'busy');
    const quiet = member(expired, 'quiet');
    sweep.add(busy);
    sweep.add(quiet);
    // busy has traffic every 500 ms for 3 s; quiet has none (positive control on the same clock)
    for (let t = 0; t < 3000; t += 500) {
      await clock.advance(500);
      busy.active = true;
    }
    expect(expired).toEqual(['quiet@1000']);
    // last traffic at 3000: not gone before 4000, gone by 4200 (two sweep intervals of 100 ms)
    await clock.advance(999);
    expect(expired).toEqual(['quiet@1000']);
    await clock.advance(201);
    expect(expired).toHaveLength(2);
    const at = Number(expired[1].split('@')[1]);
    expect(at).toBeGreaterThanOrEqual(4000);
    expect(at).toBeLessThanOrEqual(4200);
  });

  test('the timer runs only while there are members; delete and close stop it', async () => {
    const expired: string[] = [];
    const sweep = new IdleSweep(clock, 1000);
    expect(clock.pendingTimers()).toBe(0);
    const a = member(expired, 'a');
    const b = member(expired, 'b');
    sweep.add(a);
    sweep.add(b);
    expect(clock.pendingTimers()).toBe(1);
    sweep.delete(a);
    expect(clock.pendingTimers()).toBe(1);
    sweep.delete(b);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(5000);
    expect(expired).toEqual([]);
    sweep.add(a);
    expect(clock.pendingTimers()).toBe(1);
    sweep.close();
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(5000);
    expect(expired).toEqual([]);
  });
});
