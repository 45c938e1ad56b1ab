import { ManualClock, ScaledClock } from '../clock.js';

describe('ManualClock', () => {
  it('fires timers only when advanced past them, in order', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 200);
    clock.setTimeout(() => fired.push('a'), 100);
    const every = clock.setInterval(() => fired.push('tick'), 150);
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual(['a']);
    await clock.advance(200);
    expect(fired).toEqual(['a', 'tick', 'b', 'tick']);
    clock.clearInterval(every);
    await clock.advance(1000);
    expect(fired).toHaveLength(4);
    expect(clock.now()).toBe(1300);
  });

  it('lets async work started by a timer settle during advance', async () => {
    const clock = new ManualClock(0);
    let done = false;
    clock.setTimeout(() => {
      void Promise.resolve().then(() => (done = true));
    }, 10);
    await clock.advance(10);
    expect(done).toBe(true);
  });

  /** A timer at 10 s starts real I/O (a 30 ms real wait) and notes the clock when it ends; timers tick every 5 s. */
  async function clockWhenRealWorkEnds(withIdle: boolean): Promise<{ endedAt: number; fired: number[] }> {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    let work: Promise<void> = Promise.resolve();
    let endedAt = -1;
    clock.setInterval(() => fired.push(clock.now()), 5_000);
    clock.setTimeout(() => {
      work = new Promise<void>((resolve) => setTimeout(resolve, 30)).then(() => void (endedAt = clock.now()));
    }, 10_000);
    await clock.advance(60_000, withIdle ? { idle: () => work } : {});
    await work;
    return { endedAt, fired };
  }

  it('with idle, stands still while the work a timer started is in flight', async () => {
    const { endedAt, fired } = await clockWhenRealWorkEnds(true);
    expect(endedAt).toBe(10_000);
    expect(fired).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60].map((s) => s * 1000));
  });

  it('without idle, runs on while that work is in flight (the control)', async () => {
    const { endedAt, fired } = await clockWhenRealWorkEnds(false);
    // At least the next timer fired first (a fake timer yields one real turn, the work needs 30 ms).
    expect(endedAt).toBeGreaterThan(10_000);
    expect(fired).toHaveLength(12);
  });

  it('with idle, a timer cleared or re-armed by earlier work does not stop the clock short of its target', async () => {
    const clock = new ManualClock(0);
    const order: string[] = [];
    const late = clock.setTimeout(() => order.push('late'), 50_000);
    clock.setTimeout(() => {
      clock.clearTimeout(late);
      clock.setTimeout(() => order.push('re-armed'), 1_000);
    }, 20_000);
    let idles = 0;
    await clock.advance(30_000, { idle: async () => void idles++ });
    expect(order).toEqual(['re-armed']);
    expect(clock.now()).toBe(30_000);
    expect(idles).toBe(2);
    await clock.advance(30_000);
    expect(order).toEqual(['re-armed']);
  });

  it('refuses to go back in time', async () => {
    const clock = new ManualClock(1000);
    await expect(clock.advanceTo(10)).rejects.toThrow(/cannot go back/);
  });
});

describe('ScaledClock', () => {
  it('rejects a non-positive speed', () => {
    expect(() => new ScaledClock(0)).toThrow(/positive/);
  });
});
