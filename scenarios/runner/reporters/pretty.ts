import type { CollectedEvent } from '../events.js';
import { eventMeaning } from '../event-names.js';
import type { GatewayReport, ScenarioResult, StepResult } from '../runner.js';
import { connectionKey } from '../expectations/events.js';
import { makeStyle, type Style } from './style.js';

const MARK: Record<StepResult['status'], string> = { passed: '✓', failed: '✗', skipped: '-', 'not-verified': '?', 'not-run': '·' };

function time(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`.padStart(7);
}

function markOf(status: StepResult['status'], st: Style): string {
  const m = MARK[status];
  return status === 'passed' ? st.green(m) : status === 'failed' ? st.red(m) : status === 'skipped' || status === 'not-verified' ? st.yellow(m) : st.dim(m);
}

const GUID = /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** Workspace GUIDs shortened to their first 8 digits, so host names fit a line. */
export function shortTarget(target: string): string {
  return target.replace(GUID, '$1…');
}

function colourFor(ids: number[], st: Style): (s: string) => string {
  if (ids.some((id) => id >= 400)) return st.red;
  if (ids.some((id) => id === 104 || id === 105 || id === 106)) return st.yellow;
  if (ids.includes(107)) return st.green;
  return (s) => s;
}

interface EventGroup {
  first: CollectedEvent;
  ids: number[];
  messages: string[];
  client: string;
  target: string;
  count: number;
}

/**
 * The events of one step as timeline lines. The events of one connection (same gateway and
 * connectionId) make one line, e.g. "103 CONNECT received → 105 target forbidden  linux-1 → host:443";
 * identical lines (same client, target and ids) are folded into the first with ×N.
 */
export function eventLines(events: CollectedEvent[], st: Style, severalGateways = false): string[] {
  const groups: EventGroup[] = [];
  const byConnection = new Map<string, EventGroup>();
  for (const e of events) {
    const key = e.connectionId !== undefined ? connectionKey(e) : undefined;
    const g = key ? byConnection.get(key) : undefined;
    if (g) {
      g.ids.push(e.id);
      g.messages.push(e.message);
      if (!g.target && e.target) g.target = e.target;
      if (!g.client && e.client) g.client = e.client;
      continue;
    }
    const fresh: EventGroup = { first: e, ids: [e.id], messages: [e.message], client: e.client ?? e.clientIp ?? '', target: e.target ?? '', count: 1 };
    groups.push(fresh);
    if (key) byConnection.set(key, fresh);
  }
  groups.sort((a, b) => a.first.atMs - b.first.atMs);
  const folded: EventGroup[] = [];
  for (const g of groups) {
    const same = g.first.connectionId !== undefined && folded.find((f) => f.first.connectionId !== undefined && f.client === g.client && f.target === g.target && f.first.gateway === g.first.gateway && f.first.generation === g.first.generation && f.ids.join() === g.ids.join());
    if (same) same.count++;
    else folded.push(g);
  }
  const seqOf = (g: EventGroup) => g.ids.map((id, i) => `${id} ${eventMeaning(id, g.messages[i])}`).join(' → ');
  const width = Math.max(40, ...folded.map((g) => (g.target ? seqOf(g).length : 0)));
  return folded.map((g) => {
    const seq = seqOf(g);
    const who = g.target ? `${g.client.padEnd(10)} → ${shortTarget(g.target)}` : g.client;
    const text = `${seq.padEnd(width)}  ${who}`.trimEnd();
    const extra = `${g.count > 1 ? ` ×${g.count}` : ''}${gatewayTag(g.first, severalGateways, st)}`;
    return `${st.dim(time(g.first.atMs))}     ${colourFor(g.ids, st)(text)}${extra}`;
  });
}

function severalGateways(events: readonly CollectedEvent[]): boolean {
  return events.some((e) => e.gateway !== events[0].gateway);
}

/** `[gw 2]` for a restarted gateway's events; with several gateways, their name: `[gw1]`, `[gw1 #2]`. */
function gatewayTag(e: CollectedEvent, severalGateways: boolean, st: Style): string {
  if (severalGateways) return st.dim(`  [${e.gateway}${e.generation > 1 ? ` #${e.generation}` : ''}]`);
  return e.generation > 1 ? st.dim(`  [gw ${e.generation}]`) : '';
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
  if (external) lines.push(st.yellow(`external gateway ${external}: steps needing omsgw's own gateway are skipped; expectations that cannot be checked there are "not verified"`));
  lines.push(st.dim(`${'time'.padStart(7)}   step / gateway event (id meaning, client → target)`));
  return lines;
}

const SUMMARY_COUNTERS = ['tunnelsTotal', 'tunnelsActive', 'activeClientConnections', 'connectedClients', 'rejectionCount', 'errorCount'];

/** One line per gateway when there are several: how it ended, its events by id and its last counters. */
export function gatewaySummary(g: GatewayReport): string {
  const events = Object.entries(g.eventCounts).map(([id, n]) => `${id}×${n}`).join(' ') || 'none';
  const c = g.counters ?? {};
  const counters = SUMMARY_COUNTERS.filter((k) => typeof c[k] === 'number').map((k) => `${k} ${c[k]}`).join(', ') || 'not read';
  return `  ${g.name} (${g.ended}${g.generations > 1 ? `, ${g.generations} processes` : ''}): events ${events}; last counters ${counters}`;
}

export function timelineFooter(r: ScenarioResult, st: Style): string[] {
  const lines: string[] = [];
  const counts = { passed: 0, failed: 0, skipped: 0, 'not-verified': 0, 'not-run': 0 };
  for (const s of r.steps) counts[s.status]++;
  const verdict = r.verdict === 'passed' ? st.green('PASSED') : r.verdict === 'not-verified' ? st.yellow('NOT VERIFIED') : st.red('FAILED');
  lines.push(`${verdict} ${r.name} in ${(r.durationMs / 1000).toFixed(1)}s: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${counts['not-verified'] ? `, ${counts['not-verified']} not verified` : ''}${counts['not-run'] ? `, ${counts['not-run']} not run` : ''}`);
  if (r.error) lines.push(st.red(r.error));
  if (r.gateways.length > 1) for (const g of r.gateways) lines.push(st.dim(gatewaySummary(g)));
  for (const t of r.teardown) lines.push(st.yellow(`teardown: ${t}`));
  return lines;
}

/**
 * Which step's block each event goes under: the step during which the runner read it, except that
 * the later events of a connection join the block where the connection began, so that one line
 * shows a whole connection (103 → 107) even when its 107 was read during the next step.
 * Events read after the last step (while tearing down) come back as `after`.
 */
export function eventsByStep(steps: StepResult[], events: readonly CollectedEvent[]): { blocks: CollectedEvent[][]; after: CollectedEvent[] } {
  const blocks = steps.map((): CollectedEvent[] => []);
  const firstBlock = new Map<string, number>();
  const place = (e: CollectedEvent, i: number, into: CollectedEvent[]) => {
    const key = e.connectionId !== undefined ? connectionKey(e) : undefined;
    const owner = key !== undefined ? firstBlock.get(key) : undefined;
    if (owner !== undefined) return blocks[owner].push(e);
    if (key !== undefined && i >= 0) firstBlock.set(key, i);
    into.push(e);
  };
  steps.forEach((st, i) => {
    for (let j = st.eventsFrom; j < st.eventsTo && j < events.length; j++) place(events[j], i, blocks[i]);
  });
  const after: CollectedEvent[] = [];
  const end = steps.length ? steps[steps.length - 1].eventsTo : 0;
  for (let j = end; j < events.length; j++) place(events[j], -1, after);
  return { blocks, after };
}

/**
 * Writes a timeline as a scenario runs, one step behind: a step's block is written once the next
 * step has finished, so the events of its connections that arrive a moment later are on its line.
 */
export class TimelinePrinter {
  private readonly steps: StepResult[] = [];
  private readonly printed = new Set<CollectedEvent>();
  private written = 0;

  constructor(private readonly write: (text: string) => void, private readonly st: Style) {}

  header(name: string, title: string, external: string | undefined): void {
    this.write(`${timelineHeader(name, title, external, this.st).join('\n')}\n`);
  }

  step(result: StepResult, events: readonly CollectedEvent[]): void {
    this.steps.push(result);
    this.flush(this.steps.length - 1, events);
  }

  finish(r: ScenarioResult): void {
    this.flush(this.steps.length, r.events);
    const { after } = eventsByStep(this.steps, r.events);
    const rest = this.unprinted(after);
    const lines = [...(rest.length ? [`${this.st.dim(`${' '.repeat(7)}   (while tearing down)`)}`, ...eventLines(rest, this.st, severalGateways(r.events))] : []), ...timelineFooter(r, this.st)];
    this.write(`${lines.join('\n')}\n`);
  }

  private unprinted(list: CollectedEvent[]): CollectedEvent[] {
    const out = list.filter((e) => !this.printed.has(e));
    for (const e of out) this.printed.add(e);
    return out;
  }

  /** Writes the blocks of steps [written, upTo). */
  private flush(upTo: number, events: readonly CollectedEvent[]): void {
    if (this.written >= upTo) return;
    const { blocks } = eventsByStep(this.steps, events);
    const lines: string[] = [];
    for (; this.written < upTo; this.written++) {
      lines.push(...stepLines(this.steps[this.written], this.st), ...eventLines(this.unprinted(blocks[this.written]), this.st, severalGateways(events)));
    }
    this.write(`${lines.join('\n')}\n`);
  }
}

/** The whole timeline of one scenario: steps in order, each followed by the connections that began while it ran. */
export function renderTimeline(r: ScenarioResult, st: Style = makeStyle(false)): string {
  let text = '';
  const printer = new TimelinePrinter((t) => (text += t), st);
  printer.header(r.name, r.title, r.external);
  for (const s of r.steps) printer.step(s, r.events);
  printer.finish(r);
  return text.replace(/\n$/, '');
}

export function renderPretty(results: ScenarioResult[], st: Style): string {
  const parts = results.map((r) => renderTimeline(r, st));
  if (results.length > 1) {
    const failed = results.filter((r) => r.verdict === 'failed');
    const unverified = results.filter((r) => r.verdict === 'not-verified');
    parts.push(`${results.length - failed.length - unverified.length}/${results.length} scenarios passed${failed.length ? `; failed: ${failed.map((r) => r.name).join(', ')}` : ''}${unverified.length ? `; not verified: ${unverified.map((r) => r.name).join(', ')}` : ''}`);
  }
  return `${parts.join('\n\n')}\n`;
}
