import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { gradedTable } from '../reporters/markdown.js';
import type { CaseResult, SuiteReport } from '../types.js';

const DOC = join(packageRoot(), 'docs', 'conformance.md');
const README = join(packageRoot(), 'README.md');

const markers = (name: string) => ({ start: `<!-- ${name}-graded-table:start -->`, end: `<!-- ${name}-graded-table:end -->` });

/** id → verdict of the graded table committed in docs/conformance.md between `<!-- <name>-graded-table:start/end -->`. */
export function committedVerdicts(name: string): Record<string, string> {
  const { start, end } = markers(name);
  const doc = readFileSync(DOC, 'utf8');
  if (!doc.includes(start) || !doc.includes(end)) throw new Error(`docs/conformance.md has no ${start} … ${end} block`);
  const block = doc.slice(doc.indexOf(start), doc.indexOf(end));
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/^\| (\d+\.\d+) \|.*?\| (pass|\*\*fail\*\*|not observable) \|/gm)) out[m[1]] = m[2].replace(/\*/g, '');
  return out;
}

/** id → verdict of a run, spelled as the committed table spells it. */
export function seenVerdicts(report: SuiteReport): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const r of report.results) seen[r.id] = r.verdict.status === 'not-observable' ? 'not observable' : r.verdict.status;
  return seen;
}

/**
 * The committed table for `name`, rewritten from this run first when UPDATE_CONFORMANCE_DOCS is set
 * (then review the diff: every failure needs its explanation in the peer's notes).
 */
export function committedAfterOptionalUpdate(name: string, report: SuiteReport, notes: Record<string, string>): Record<string, string> {
  if (process.env.UPDATE_CONFORMANCE_DOCS) {
    const { start, end } = markers(name);
    const doc = readFileSync(DOC, 'utf8');
    writeFileSync(DOC, `${doc.slice(0, doc.indexOf(start) + start.length)}\n${gradedTable(report, notes)}\n${doc.slice(doc.indexOf(end))}`);
  }
  return committedVerdicts(name);
}

/** Ids of the results with this verdict. */
export const idsWith = (report: SuiteReport, status: CaseResult['verdict']['status']): string[] => report.results.filter((r) => r.verdict.status === status).map((r) => r.id);

/**
 * The README "Conformance" summary of one column, as a run gives it: per section "passed/graded"
 * (or "not observable" when nothing in it could be graded), and the total line.
 */
export function readmeSummary(results: CaseResult[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const section of [...new Set(results.map((r) => r.section))]) {
    const rs = results.filter((r) => r.section === section);
    const pass = rs.filter((r) => r.verdict.status === 'pass').length;
    const graded = rs.filter((r) => r.verdict.status !== 'not-observable').length;
    out[String(section)] = graded ? `${pass}/${graded}` : 'not observable';
  }
  const count = (s: CaseResult['verdict']['status']) => results.filter((r) => r.verdict.status === s).length;
  out.total = `${count('pass')} pass, ${count('fail')} fail, ${count('not-observable')} not observable`;
  return out;
}

/**
 * The same summary as the README's "Conformance" table shows it in the column whose header starts
 * with `column`: each cell's leading "n/m", "not observable" or "n pass, n fail, n not observable"
 * (text after it, in parentheses, is free).
 */
export function readmeColumn(column: string): Record<string, string> {
  const readme = readFileSync(README, 'utf8');
  const lines = readme.slice(readme.indexOf('## Conformance')).split('\n');
  const header = lines.findIndex((l) => l.startsWith('| section |'));
  if (header < 0) throw new Error('README.md "Conformance" has no "| section |" table');
  const cells = (l: string) => l.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
  const col = cells(lines[header]).findIndex((c) => c.startsWith(column));
  if (col < 0) throw new Error(`README.md "Conformance" table has no column starting with ${JSON.stringify(column)}`);
  const out: Record<string, string> = {};
  for (const l of lines.slice(header + 2)) {
    if (!l.startsWith('|')) break;
    const row = cells(l);
    const key = /^\*\*total\*\*$/.test(row[0]) ? 'total' : (/^(\d+) /.exec(row[0])?.[1] ?? row[0]);
    const m = /^\**(\d+\/\d+|not observable|\d+ pass, \d+ fail, \d+ not observable)/.exec(row[col] ?? '');
    out[key] = m ? m[1] : `(unreadable: ${row[col]})`;
  }
  return out;
}
