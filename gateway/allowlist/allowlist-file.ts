import { readFileSync } from 'node:fs';
import { InputError } from '../../lib/errors.js';
import { parseClientAllowlist, sameClientSubject } from '../tls/client-allowlist.js';
import { editTextFile } from '../config/edit-file.js';
import { hostPatternProblem, normaliseHost } from './host-pattern.js';

/** Lines that carry an entry: `#` comments and blank lines are ignored; surrounding spaces trimmed. */
export function entryLines(text: string): Array<{ line: number; value: string }> {
  const out: Array<{ line: number; value: string }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const value = raw.trim();
    if (value.length === 0 || value.startsWith('#')) return;
    out.push({ line: i + 1, value });
  });
  return out;
}

export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${what} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Parses allowedlist_server.txt: one host (exact, or `*.suffix`) per line. Bad lines name file and line. */
export function parseServerAllowlist(text: string, source: string): string[] {
  const hosts: string[] = [];
  for (const { line, value } of entryLines(text)) {
    const host = normaliseHost(value);
    const problem = hostPatternProblem(host);
    if (problem) throw new InputError(`${source} line ${line}: ${problem}`);
    if (!hosts.includes(host)) hosts.push(host);
  }
  return hosts;
}

export function loadServerAllowlist(path: string): string[] {
  return parseServerAllowlist(readTextFile(path, 'server allowlist'), path);
}

export function loadClientAllowlist(path: string): string[] {
  return parseClientAllowlist(readTextFile(path, 'client allowlist'), path);
}

/** Adds `value` as a new line unless an equal entry exists; comments and order are kept. */
export function addEntryToText(text: string, value: string, same: (a: string, b: string) => boolean): { text: string; changed: boolean } {
  if (entryLines(text).some((e) => same(e.value, value))) return { text, changed: false };
  const base = text.length === 0 || text.endsWith('\n') ? text : text + '\n';
  return { text: base + value + '\n', changed: true };
}

/** Removes every line equal to `value`; comments and other lines are kept. */
export function removeEntryFromText(text: string, value: string, same: (a: string, b: string) => boolean): { text: string; changed: boolean } {
  const lines = text.split('\n');
  const kept = lines.filter((raw) => {
    const v = raw.replace(/\r$/, '').trim();
    return v.length === 0 || v.startsWith('#') || !same(v, value);
  });
  return { text: kept.join('\n'), changed: kept.length !== lines.length };
}

export const sameHost = (a: string, b: string): boolean => normaliseHost(a) === normaliseHost(b);
/** Same subject for add/remove: attribute order, case and spacing do not matter (as when matching certificates). */
export const sameSubject = sameClientSubject;

export type AllowlistKind = 'hosts' | 'subjects';

const KIND = {
  hosts: { what: 'server allowlist', same: sameHost, parse: (text: string, where: string) => parseServerAllowlist(text, where) },
  subjects: { what: 'client allowlist', same: sameSubject, parse: (text: string, where: string) => parseClientAllowlist(text, where) },
} as const;

export function allowlistWhat(kind: AllowlistKind): string {
  return KIND[kind].what;
}

/**
 * Adds or removes entries of an allowlist file as one transaction (see editTextFile): the whole
 * resulting file must parse, or nothing is written. Returns the entries actually added or removed.
 */
export async function editAllowlistFile(path: string, kind: AllowlistKind, op: 'add' | 'remove', values: string[], o: { lockTimeoutMs?: number; createIfMissing?: boolean } = {}): Promise<{ changed: string[]; target: string }> {
  const { what, same, parse } = KIND[kind];
  const changed: string[] = [];
  const r = await editTextFile(
    path,
    (text) => {
      let next = text;
      for (const v of values) {
        const step = op === 'add' ? addEntryToText(next, v, same) : removeEntryFromText(next, v, same);
        if (step.changed) changed.push(v);
        next = step.text;
      }
      try {
        parse(next, path); // the whole result must be valid: a bad line anywhere refuses the edit
      } catch (err) {
        throw new InputError(`${(err as Error).message} (fix that line first; nothing was changed)`);
      }
      return changed.length ? next : undefined;
    },
    { what, lockTimeoutMs: o.lockTimeoutMs, createIfMissing: o.createIfMissing },
  );
  return { changed, target: r.target };
}
