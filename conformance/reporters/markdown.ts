import type { SuiteReport } from '../types.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * The graded table committed in docs/conformance.md: one row per case, its verdict, and for a
 * failure or a case that could not be observed, the explanation given in `notes` (or the verdict's own reason).
 */
export function gradedTable(report: SuiteReport, notes: Record<string, string> = {}): string {
  const rows = report.results.map((r) => {
    const v = r.verdict;
    const verdict = v.status === 'pass' ? 'pass' : v.status === 'fail' ? '**fail**' : 'not observable';
    const why = v.status === 'fail' ? `${notes[r.id] ?? ''} (seen: ${v.seen})` : v.status === 'not-observable' ? (notes[r.id] ?? v.why) : '';
    return `| ${r.id} | ${cell(r.behaviour)} | ${verdict} | ${cell(why.trim())} |`;
  });
  const t = report.totals;
  return [
    '| case | behaviour | verdict | why |',
    '|---|---|---|---|',
    ...rows,
    '',
    `${t.pass} pass, ${t.fail} fail, ${t.notObservable} not observable (${t.pass + t.fail ? Math.round((100 * t.pass) / (t.pass + t.fail)) : 0} % of the observable cases).`,
  ].join('\n');
}
