import type { SuiteReport } from '../types.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One <testsuite> per section, one <testcase> per case; not observable = <skipped> with the reason. */
export function renderJunit(report: SuiteReport): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="omsgw conformance ${esc(report.gateway)}" tests="${report.results.length}" failures="${report.totals.fail}" skipped="${report.totals.notObservable}" time="${(report.durationMs / 1000).toFixed(3)}">`];
  for (const s of report.sections) {
    const rs = report.results.filter((r) => r.section === s.id);
    if (!rs.length) continue;
    const failures = rs.filter((r) => r.verdict.status === 'fail').length;
    const skipped = rs.filter((r) => r.verdict.status === 'not-observable').length;
    out.push(`  <testsuite name="${s.id}. ${esc(s.title)}" tests="${rs.length}" failures="${failures}" skipped="${skipped}">`);
    for (const r of rs) {
      const v = r.verdict;
      out.push(`    <testcase classname="conformance.${s.key}" name="${esc(`${r.id} ${r.behaviour}`)}" time="${(r.durationMs / 1000).toFixed(3)}">`);
      if (v.status === 'fail') out.push(`      <failure message="${esc(`expected ${v.expected}; seen ${v.seen}`)}">${esc(`source: ${r.source}\nobserved: ${r.observed}\nexpected: ${v.expected}\nseen: ${v.seen}`)}</failure>`);
      if (v.status === 'not-observable') out.push(`      <skipped message="${esc(v.why)}"/>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
