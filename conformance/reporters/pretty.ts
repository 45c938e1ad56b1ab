import type { CaseResult, SuiteReport } from '../types.js';

const MARK = { pass: '✔', fail: '✖', 'not-observable': '–' } as const;
const COLOUR = { pass: '\x1b[32m', fail: '\x1b[31m', 'not-observable': '\x1b[33m' } as const;

/** One case as h2spec prints it: mark, id, behaviour; a failure adds expected and seen, a skip its reason. */
export function prettyCase(r: CaseResult, colour: boolean): string {
  const v = r.verdict;
  const paint = (s: string) => (colour ? `${COLOUR[v.status]}${s}\x1b[0m` : s);
  const lines = [`  ${paint(MARK[v.status])} ${r.id.padEnd(5)} ${r.behaviour}`];
  if (v.status === 'fail') lines.push(`          expected: ${v.expected}`, `              seen: ${v.seen}`);
  if (v.status === 'not-observable') lines.push(`          not observable: ${v.why}`);
  return lines.join('\n');
}

export function summaryLine(report: SuiteReport): string {
  const t = report.totals;
  const graded = t.pass + t.fail;
  const pct = graded ? Math.round((100 * t.pass) / graded) : 0;
  return `${t.pass} passed, ${t.fail} failed, ${t.notObservable} not observable — ${pct} % of the observable cases pass (${report.gateway}, TLS policy ${report.tlsPolicy}, ${(report.durationMs / 1000).toFixed(1)} s)`;
}

export function renderPretty(report: SuiteReport, colour = false): string {
  const out: string[] = [`OMS gateway conformance: ${report.gateway}${report.admin ? ` (management API ${report.admin})` : ''}`, ''];
  for (const s of report.sections) {
    const rs = report.results.filter((r) => r.section === s.id);
    if (!rs.length) continue;
    out.push(`${s.id}. ${s.title}`);
    for (const r of rs) out.push(prettyCase(r, colour));
    out.push('');
  }
  out.push(summaryLine(report), '');
  return out.join('\n');
}
