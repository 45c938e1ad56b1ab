import type { SuiteReport } from '../types.js';
import { summaryLine } from './pretty.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A self-contained page (no scripts, no external files): one table per section, like Autobahn's case grid. */
export function renderHtml(report: SuiteReport): string {
  const rows = (section: number) =>
    report.results
      .filter((r) => r.section === section)
      .map((r) => {
        const v = r.verdict;
        const detail = v.status === 'fail' ? `expected: ${esc(v.expected)}<br>seen: ${esc(v.seen)}` : v.status === 'not-observable' ? esc(v.why) : esc(v.seen);
        return `<tr class="${v.status}"><td>${esc(r.id)}</td><td>${esc(r.behaviour)}<div class="src">${esc(r.source)}${r.policy ? ` · policy: ${esc(r.policy)}` : ''}</div></td><td>${esc(r.observed)}</td><td class="v">${v.status}</td><td>${detail}</td></tr>`;
      })
      .join('\n');
  const sections = report.sections
    .filter((s) => report.results.some((r) => r.section === s.id))
    .map((s) => `<h2>${s.id}. ${esc(s.title)}</h2>\n<table><thead><tr><th>case</th><th>behaviour (source)</th><th>observed as</th><th>verdict</th><th>detail</th></tr></thead><tbody>\n${rows(s.id)}\n</tbody></table>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>omsgw conformance: ${esc(report.gateway)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left;font-size:.9em}
.src{color:#666;font-size:.85em}.pass .v{background:#cfc}.fail .v{background:#fcc}.not-observable .v{background:#eee}
</style></head><body>
<h1>OMS gateway conformance: ${esc(report.gateway)}</h1>
<p id="summary">${esc(summaryLine(report))}</p>
<p>Started ${esc(report.startedAt)}${report.admin ? `, management API ${esc(report.admin)}` : ''}.</p>
${sections}
</body></html>
`;
}
