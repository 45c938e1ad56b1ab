import type { ScenarioResult } from './runner.js';
import type { CollectedEvent } from './events.js';
import { eventMeaning } from './event-names.js';
import type { Style } from './reporters/style.js';

const AUTOMATION_HOST = 'scus-agentservice-prod-1.azure-automation.net';

function sequences(events: CollectedEvent[], client: string, host?: string): Map<number, number[]> {
  const byGen = new Map<number, number[]>();
  const targets = new Map<string, string>();
  for (const e of events) if (e.connectionId !== undefined && e.target) targets.set(`${e.generation}/${e.connectionId}`, e.target);
  for (const e of events) {
    if (e.client !== client) continue;
    const t = e.target ?? (e.connectionId !== undefined ? targets.get(`${e.generation}/${e.connectionId}`) : undefined);
    if (host && !(t ?? '').toLowerCase().startsWith(host)) continue;
    if (![103, 104, 105, 106, 107, 403].includes(e.id)) continue;
    byGen.set(e.generation, [...(byGen.get(e.generation) ?? []), e.id]);
  }
  return byGen;
}

const show = (ids: number[] | undefined) => (ids?.length ? ids.map((id) => `${id} (${eventMeaning(id)})`).join(' → ') : 'nothing');

/**
 * The short account `omsgw lab` prints after the timeline: what happened, why, the fix, and the
 * proof that nothing was lost. Every figure comes from what the run observed.
 */
export function labStory(r: ScenarioResult, explanation: string | undefined, st: Style): string {
  const lines: string[] = ['', st.bold('What happened')];
  const linux = sequences(r.events, 'linux-1', AUTOMATION_HOST);
  const windows = sequences(r.events, 'windows-1');
  const forbidden = r.events.find((e) => e.id === 105 && e.client === 'linux-1');
  lines.push(`  windows-1, every CONNECT through the gateway: ${show(windows.get(1))}`);
  lines.push(`  linux-1 → ${AUTOMATION_HOST}:443 before the fix: ${show(linux.get(1))}`);
  if (forbidden) lines.push(`    gateway said: "${forbidden.message}"`);
  const lastGen = Math.max(1, ...r.events.map((e) => e.generation));
  if (lastGen > 1) lines.push(`  linux-1 → ${AUTOMATION_HOST}:443 after the host was added and the gateway restarted: ${show(linux.get(lastGen))}`);
  if (explanation) {
    lines.push('', st.bold('Why'));
    lines.push(...wrap(explanation.trim(), 96).map((l) => `  ${l}`));
  }
  lines.push('', st.bold('Nothing lost'));
  if (r.loss) {
    lines.push(`  records created by the agents: ${r.loss.created}; ingested by the cloud: ${r.loss.ingested}; missing: ${r.loss.missing}; duplicated: ${r.loss.duplicated}`);
    for (const p of r.loss.perAgent) lines.push(`    ${p.agent}: created ${p.created}, ingested ${p.ingested}`);
  } else lines.push('  (no ledger: the cloud or the agents did not run)');
  if (r.counters) {
    const c = r.counters as Record<string, unknown>;
    const pick = ['activeClientConnections', 'connectedClients', 'connectedClientsWindow', 'rejectionCount', 'errorCount'].filter((k) => typeof c[k] === 'number').map((k) => `${k} ${c[k]}`);
    if (pick.length) lines.push(`  gateway counters at the end (since its last restart): ${pick.join(', ')}`);
  }
  lines.push('');
  lines.push(r.passed ? st.green('The 2016 Linux allowlist bug reproduced as expected, and the fix delivered every queued record.') : st.red('The story did NOT reproduce as expected: see the failed steps above.'));
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
