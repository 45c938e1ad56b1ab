import { lineChart, niceTicks } from '../svg.js';

/** The text labels of an SVG at one y (the x axis) or right-aligned left of the plot (the y axis). */
function labels(svg: string): { x: string[]; y: string[] } {
  const texts = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"( text-anchor="(\w+)")? font-size="11">([^<]*)<\/text>/g)];
  return {
    y: texts.filter((t) => t[4] === 'end' && Number(t[1]) < 60).map((t) => t[5]),
    x: texts.filter((t) => t[4] === 'middle').map((t) => t[5]),
  };
}

describe('niceTicks', () => {
  test.each([
    [11, 5, [0, 5, 10, 15]],
    [10, 5, [0, 2, 4, 6, 8, 10]],
    [724, 5, [0, 200, 400, 600, 800]],
    [11.7, 6, [0, 2, 4, 6, 8, 10, 12]],
    [0.03, 5, [0, 0.01, 0.02, 0.03]],
    [0, 5, [0, 0.2, 0.4, 0.6, 0.8, 1]],
  ])('up to %p in about %p steps: %j', (max, count, ticks) => {
    expect(niceTicks(max, count)).toEqual(ticks);
  });
});

describe('lineChart axes', () => {
  test('counts get whole-number ticks from 0 past the highest value, and the x axis starts at 0', () => {
    const svg = lineChart('t', [{ name: 'a', points: [[0, 0], [5.2, 11], [11.7, 3]] }], 'seconds', 'connections');
    expect(labels(svg)).toEqual({ y: ['0', '5', '10', '15'], x: ['0', '2', '4', '6', '8', '10', '12'] });
  });

  test('a series that stays at 0 gets an axis from 0 to 1, not one label repeated', () => {
    const svg = lineChart('t', [{ name: 'a', points: [[0, 0], [10, 0]] }], 'seconds', 'count');
    const { y } = labels(svg);
    expect(y[0]).toBe('0');
    expect(y.at(-1)).toBe('1');
    expect(new Set(y).size).toBe(y.length);
  });
});
