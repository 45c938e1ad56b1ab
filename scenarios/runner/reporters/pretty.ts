import type { CollectedEvent } from '../events.js';
import { eventMeaning } from '../event-names.js';
import type { ScenarioResult, StepResult } from '../runner.js';
import { makeStyle, type Style } from './style.js';

const MARK: Record<StepResult['status'], string> = { passed: '✓', failed: '✗', skipped: '-', 'not-run': '·' };

function time(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`.padStart(7);
}

function markOf(status: StepResult['status'], st: Style): string {
  const m = MARK[status];
  return status === 'passed' ? st.green(m) : status === 'failed' ? st.red(m) : status === 'skipped' ? st.yellow(m) : st.dim(m);
}

/** One gateway event as a timeline line: time, id + meaning, which agent, which target. */
export function eventLine(e: CollectedEvent, st: Style): string {
  const meaning = eventMeaning(e.id, e.message);
  const who = e.client ?? (e.clientIp ? `${e.clientIp}` : '');
  const target = e.target ? `→ ${e.target}` : '';
  const text = `${String(e.id)} ${meaning.padEnd(26)} ${who.padEnd(10)} ${target}`.trimEnd();
  const coloured = e.id === 105 || e.id === 106 || e.id === 104 ? st.yellow(text) : e.id >= 400 ? st.red(text) : e.id === 107 ? st.green(text) : text;
  return `${st.dim(time(e.atMs))}     ${coloured}${e.generation > 1 ? st.dim(`  [gw ${e.generation}]`) : ''}`;
}

/** The step line (and, on failure, expected vs actual side by side). */
export function stepLines(s: StepResult, st: Style): string[] {
  if (s.status === 'not-run') return [`${st.dim(time(s.startMs))} ${markOf(s.status, st)} ${st.dim(`${s.do}  ${s.description} (not run: an earlier step failed)`)}`];
  const head = `${st.dim(time(s.startMs))} ${markOf(s.status, st)} ${st.bold(s.do)}  ${s.description}`;
  const out = [head];
  if (s.summary && s.summary !== s.description) out.push(`${' '.repeat(10)}${s.status === 'failed' ? st.red(s.summary) : st.dim(s.summary)}`);
  if (s.status !== 'passed') for (const d of s.details ?? []) out.push(`${' '.repeat(10)}${st.dim(d)}`);
  if (s.status === 'failed' && (s.expected?.length || s.actual?.length)) out.push(...sideBySide(s.expected ?? [], s.actual ?? [], st));
  return out;
}

export function sideBySide(expected: string[], actual: string[], st: Style): string[] {
  const width = Math.max(8, ...expected.map((l) => l.length)) + 2;
  const rows = Math.max(expected.length, actual.length);
  const pad = ' '.repeat(12);
  const out = [`${pad}${st.bold('expected'.padEnd(width))}│ ${st.bold('actual')}`];
  for (let i = 0; i < rows; i++) {
    const e = expected[i] ?? '';
    const a = actual[i] ?? '';
    const line = `${pad}${e.padEnd(width)}│ ${a}`;
    out.push(e === a ? line : `${pad}${e.padEnd(width)}│ ${st.red(a || '(nothing)')}`);
  }
  return out;
}

export function timelineHeader(name: string, title: string, external: string | undefined, st: Style): string[] {
  const lines = [`${st.bold(name)} — ${title}`];
  if (external) lines.push(st.yellow(`external gateway ${external}: steps needing omsgw's own gateway or management API are skipped`));
  lines.push(st.dim(`${'time'.padStart(7)}   step / gateway event (id meaning, client → target)`));
  return lines;
}

export function timelineFooter(r: ScenarioResult, st: Style): string[] {
  const lines: string[] = [];
  const counts = { passed: 0, failed: 0, skipped: 0, 'not-run': 0 };
  for (const s of r.steps) counts[s.status]++;
  const verdict = r.passed ? st.green('PASSED') : st.red('FAILED');
  lines.push(`${verdict} ${r.name} in ${(r.durationMs / 1000).toFixed(1)}s: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${counts['not-run'] ? `, ${counts['not-run']} not run` : ''}`);
  if (r.error) lines.push(st.red(r.error));
  for (const t of r.teardown) lines.push(st.yellow(`teardown: ${t}`));
  return lines;
}

/** The events read while a step ran, one line each. */
export function stepBlock(s: StepResult, events: CollectedEvent[], st: Style): string[] {
  return [...stepLines(s, st), ...events.map((e) => eventLine(e, st))];
}

/** The whole timeline of one scenario: steps in order, each followed by the events read while it ran. */
export function renderTimeline(r: ScenarioResult, st: Style = makeStyle(false)): string {
  const lines = timelineHeader(r.name, r.title, r.external, st);
  for (const s of r.steps) lines.push(...stepBlock(s, r.events.slice(s.eventsFrom, s.eventsTo), st));
  lines.push(...timelineFooter(r, st));
  return lines.join('\n');
}

export function renderPretty(results: ScenarioResult[], st: Style): string {
  const parts = results.map((r) => renderTimeline(r, st));
  if (results.length > 1) {
    const failed = results.filter((r) => !r.passed);
    parts.push(`${results.length - failed.length}/${results.length} scenarios passed${failed.length ? `; failed: ${failed.map((r) => r.name).join(', ')}` : ''}`);
  }
  return `${parts.join('\n\n')}\n`;
}
