import { InputError } from '../../lib/errors.js';
import type { FleetStatus, OsTotals } from './fleet.js';
import { droppedTotal, type LedgerSummary } from './ledger.js';

/** "10m", "30s", "1h", "1500ms", "2m30s" → milliseconds. */
export function parseDuration(text: string, flag = '--duration'): number {
  const t = String(text ?? '').trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t))) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    consumed = re.lastIndex;
  }
  if (t === '' || consumed !== t.length || !(total > 0)) {
    throw new InputError(`${flag} "${text}" is not a duration: use a number with a unit, e.g. 30s, 10m, 1h or 2m30s`);
  }
  return Math.round(total);
}

const COLUMNS: [keyof OsTotals, string][] = [
  ['agents', 'agents'],
  ['onboarded', 'onboarded'],
  ['registered', 'registered'],
  ['queued', 'queued'],
  ['delivered', 'delivered'],
  ['dropped', 'dropped'],
  ['errors', 'errors'],
];

/** One line per OS: `linux    agents 5  onboarded 5  registered 0  queued 120  delivered 0  dropped 0  errors 12`. */
export function formatFleetStatus(s: FleetStatus, elapsed?: string): string[] {
  const lines: string[] = [];
  for (const os of ['windows', 'linux'] as const) {
    const t = s.byOs[os];
    if (!t) continue;
    const cols = COLUMNS.filter(([k]) => os === 'linux' || k !== 'registered').map(([k, label]) => `${label} ${String(t[k]).padStart(k === 'agents' ? 3 : 5)}`);
    lines.push(`${elapsed ? `[${elapsed}] ` : ''}${os.padEnd(8)}${cols.join('  ')}`);
  }
  for (const e of s.lastErrors.slice(0, 3)) lines.push(`  last error (${e.agents} agent${e.agents === 1 ? '' : 's'}): ${e.message}`);
  return lines;
}

/** The final ledger as aligned lines. */
export function formatLedger(title: string, s: LedgerSummary): string[] {
  const drops = Object.entries(s.dropped);
  return [
    `${title}: created ${s.created}, acknowledged ${s.acknowledged}, queued ${s.queued}, dropped ${droppedTotal(s)}${drops.length ? ` (${drops.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}; transmissions ${s.sent}`,
    `  created = acknowledged + queued + dropped: ${s.created} = ${s.acknowledged} + ${s.queued} + ${droppedTotal(s)} ${s.created === s.acknowledged + s.queued + droppedTotal(s) ? 'ok' : 'MISMATCH'}`,
  ];
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
