import type { ScenarioResult } from './runner.js';
import type { CollectedEvent } from './events.js';
import { eventMeaning } from './event-names.js';
import type { Style } from './reporters/style.js';

const AUTOMATION_HOST = 'scus-agentservice-prod-1.azure-automation.net';

/** The event-id sequence of each connection from `client` (to hosts starting with `host`), per gateway generation. */
function connections(events: CollectedEvent[], client: string, host?: string): { generation: number; ids: number[] }[] {
  const targets = new Map<string, string>();
  for (const e of events) if (e.connectionId !== undefined && e.target) targets.set(`${e.generation}/${e.connectionId}`, e.target);
  const byConn = new Map<string, { generation: number; ids: number[] }>();
  for (const e of events) {
    if (e.client !== client || e.connectionId === undefined) continue;
    const key = `${e.generation}/${e.connectionId}`;
    const t = targets.get(key) ?? '';
    if (host && !t.toLowerCase().startsWith(host)) continue;
    if (![103, 104, 105, 106, 107, 403].includes(e.id)) continue;
    const c = byConn.get(key) ?? { generation: e.generation, ids: [] };
    c.ids.push(e.id);
    byConn.set(key, c);
  }
  return [...byConn.values()];
}

/** "3 connections, each 103 (CONNECT received) → 105 (target forbidden)" or a breakdown when they differ. */
function describeConnections(list: { ids: number[] }[]): string {
  if (list.length === 0) return 'no connections';
  const counts = new Map<string, number>();
  for (const c of list) {
    const k = c.ids.map((id) => `${id} (${eventMeaning(id)})`).join(' → ');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const n = `${list.length} connection${list.length === 1 ? '' : 's'}`;
  if (counts.size === 1) return `${n}, ${list.length === 1 ? '' : 'each '}${[...counts.keys()][0]}`;
  return `${n}: ${[...counts.entries()].map(([k, v]) => `${v} × ${k}`).join('; ')}`;
}

/**
 * The short account `omsgw lab` prints after the timeline: what happened, why, the fix, and the
 * proof that nothing was lost. Every figure comes from what the run observed.
 */
export function labStory(r: ScenarioResult, explanation: string | undefined, st: Style): string {
  const lines: string[] = ['', st.bold('What happened')];
  const lastGen = Math.max(1, ...r.events.map((e) => e.generation));
  const linux = connections(r.events, 'linux-1', AUTOMATION_HOST);
  const forbidden = r.events.find((e) => e.id === 105 && e.client === 'linux-1');
  lines.push(`  windows-1 (Windows agent), all its CONNECTs: ${describeConnections(connections(r.events, 'windows-1'))}`);
  lines.push(`  linux-1 (Linux agent) → ${AUTOMATION_HOST}:443`);
  lines.push(`    with the default allowlist: ${describeConnections(linux.filter((c) => c.generation === 1))}`);
  if (forbidden) lines.push(`      the gateway logged: "${forbidden.message}"; the agent kept its data queued`);
  if (lastGen > 1) lines.push(`    after adding the host to allowedlist_server.txt and restarting: ${describeConnections(linux.filter((c) => c.generation === lastGen))}`);
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
