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
