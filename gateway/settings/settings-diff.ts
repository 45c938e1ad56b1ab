import type { LiveSettings } from '../live-settings.js';

export interface ListDiff {
  added: string[];
  removed: string[];
}

export function diffLists(before: readonly string[], after: readonly string[]): ListDiff {
  return { added: after.filter((x) => !before.includes(x)), removed: before.filter((x) => !after.includes(x)) };
}

export interface SettingsDiff {
  hosts: ListDiff;
  clientSubjects: ListDiff;
  hostMap: ListDiff;
  /** Settings changed, key → [before, after] as shown to people (secrets masked). */
  settings: Record<string, { from: unknown; to: unknown }>;
}

export function diffSettings(before: LiveSettings, after: LiveSettings, settings: SettingsDiff['settings'] = {}): SettingsDiff {
  return {
    hosts: diffLists(before.allowlist.hosts, after.allowlist.hosts),
    clientSubjects: diffLists(before.clientAllowlist, after.clientAllowlist),
    hostMap: diffLists(before.hostMap.entries, after.hostMap.entries),
    settings,
  };
}

/** One line for event 100 and the reload answer: exactly what changed, or "no changes". */
export function summariseDiff(d: SettingsDiff, pendingRestart: string[] = []): string {
  const parts: string[] = [];
  const say = (what: string, l: ListDiff) => {
    if (l.added.length) parts.push(`${what} added: ${l.added.join(', ')}`);
    if (l.removed.length) parts.push(`${what} removed: ${l.removed.join(', ')}`);
  };
  say('server allowlist', d.hosts);
  say('client allowlist', d.clientSubjects);
  say('host map', d.hostMap);
  for (const [k, v] of Object.entries(d.settings)) parts.push(`${k}: ${show(v.from)} -> ${show(v.to)}`);
  const summary = parts.length ? parts.join('; ') : 'no changes';
  return pendingRestart.length ? `${summary} (saved but not applied, restart required: ${pendingRestart.join(', ')})` : summary;
}

export function isEmptyDiff(d: SettingsDiff): boolean {
  return [d.hosts, d.clientSubjects, d.hostMap].every((l) => !l.added.length && !l.removed.length) && Object.keys(d.settings).length === 0;
}

function show(v: unknown): string {
  return v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);
}
