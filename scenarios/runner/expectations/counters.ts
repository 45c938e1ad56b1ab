import type { ExpectCountersStep, Range } from '../definitions.js';
import { adminRequest } from '../admin-client.js';
import { durationMs } from '../duration.js';
import { failed, passed, pollUntil, type StepImpl } from '../step-types.js';

export function inRange(value: number, range: Range): boolean {
  if (typeof range === 'number') return value === range;
  return (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);
}

export function showRange(range: Range): string {
  if (typeof range === 'number') return `= ${range}`;
  if (range.min !== undefined && range.max !== undefined) return `${range.min}..${range.max}`;
  return range.min !== undefined ? `>= ${range.min}` : `<= ${range.max}`;
}

/** Finds a counter by its camelCase name in /api/counters, whether flat or nested one level. */
export function counterValue(snapshot: Record<string, unknown>, name: string): number | undefined {
  const direct = snapshot[name];
  if (typeof direct === 'number') return direct;
  for (const v of Object.values(snapshot)) {
    if (v && typeof v === 'object' && typeof (v as Record<string, unknown>)[name] === 'number') return (v as Record<string, number>)[name];
  }
  return undefined;
}

export const expectCounters: StepImpl<ExpectCountersStep> = {
  needs: ['management-api'],
  explain: (s) => `${s.gateway ? `${s.gateway} ` : ''}counters ${Object.entries(s.counters).map(([k, r]) => `${k} ${showRange(r)}`).join(', ')}`,
  async run(step, lab) {
    const gw = lab.runningGateway(step.gateway);
    const result = await pollUntil(step.within ? durationMs(step.within) : 0, async () => {
      const snap = (await adminRequest(gw.handle.adminUrl, 'GET', '/api/counters')) as Record<string, unknown>;
      gw.lastCounters = snap;
      const rows = Object.entries(step.counters).map(([name, range]) => ({ name, range, value: counterValue(snap, name) }));
      const bad = rows.filter((r) => r.value === undefined || !inRange(r.value, r.range));
      return { done: bad.length === 0, rows, bad, known: Object.keys(snap) };
    }, 50);
    const actual = result.rows.map((r) => `${r.name} = ${r.value ?? 'absent'}`);
    const expected = result.rows.map((r) => `${r.name} ${showRange(r.range)}`);
    if (!result.done) {
      const unknown = result.bad.filter((r) => r.value === undefined).map((r) => r.name);
      return failed(actual.join(', '), { expected, actual, details: unknown.length ? [`unknown counter(s) ${unknown.join(', ')}; the gateway has: ${result.known.join(', ')}`] : undefined });
    }
    return passed(actual.join(', '));
  },
};
