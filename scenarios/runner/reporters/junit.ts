import type { ScenarioResult } from '../runner.js';
import { renderTimeline } from './pretty.js';

function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** JUnit XML for CI: one testsuite per scenario, one testcase per step. */
export function renderJunit(results: ScenarioResult[]): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = results.reduce((n, r) => n + r.steps.length, 0);
  const failures = results.reduce((n, r) => n + r.steps.filter((s) => s.status === 'failed').length, 0);
  const time = results.reduce((n, r) => n + r.durationMs, 0);
  out.push(`<testsuites name="omsgw scenarios" tests="${total}" failures="${failures}" time="${secs(time)}">`);
  for (const r of results) {
    const f = r.steps.filter((s) => s.status === 'failed').length;
    const skipped = r.steps.filter((s) => s.status === 'skipped' || s.status === 'not-verified' || s.status === 'not-run').length;
    out.push(`  <testsuite name="${xml(r.name)}" tests="${r.steps.length}" failures="${f}" errors="0" skipped="${skipped}" time="${secs(r.durationMs)}" file="${xml(r.file)}">`);
    for (const s of r.steps) {
      const name = `${String(s.index + 1).padStart(2, '0')} ${s.do}: ${s.description}`;
      out.push(`    <testcase classname="scenarios.${xml(r.name)}" name="${xml(name)}" time="${secs(s.durationMs)}">`);
      if (s.status === 'failed') {
        const body = [...(s.details ?? []), ...(s.expected ? ['expected:', ...s.expected.map((l) => `  ${l}`)] : []), ...(s.actual ? ['actual:', ...s.actual.map((l) => `  ${l}`)] : [])].join('\n');
        out.push(`      <failure message="${xml(s.summary ?? 'failed')}">${xml(body)}</failure>`);
      } else if (s.status === 'skipped') out.push(`      <skipped message="${xml(s.summary ?? '')}"/>`);
      else if (s.status === 'not-verified') out.push(`      <skipped message="${xml(`not verified: ${s.summary ?? ''}`)}"/>`);
      else if (s.status === 'not-run') out.push('      <skipped message="not run: an earlier step failed"/>');
      out.push('    </testcase>');
    }
    out.push(`    <system-out>${xml(renderTimeline(r))}</system-out>`);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
