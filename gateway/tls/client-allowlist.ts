import { InputError } from '../../lib/errors.js';
import { dnKey, parseDn, type DnAttribute } from './subject.js';

/**
 * `allowedlist_client.txt`: allowed client certificate subjects, one per line. Blank lines and lines
 * whose first non-blank character is `#` are ignored (a `#` later in a line is part of the subject).
 *
 * Matching (see docs/tls-inspection.md):
 * - an empty list allows any certificate;
 * - an entry that is a single `CN=<value>` matches every subject having a CN equal to that value
 *   (e.g. `CN=<workspaceId>` admits all agents of a workspace);
 * - any other entry is a full subject and matches a subject with exactly the same attributes,
 *   in any order (so the OpenSSL order and the reversed Windows order both match).
 * Attribute types are case-insensitive (`E`/`EMAIL` = `emailAddress`, `S` = `ST`); values are
 * compared case-insensitively after trimming and collapsing inner whitespace.
 */

/** Returns the entries of the file (trimmed), or throws InputError naming `where:line`. */
export function parseClientAllowlist(text: string, where: string): string[] {
  const entries: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed.length === 0 || trimmed.startsWith('#')) return;
    entries.push(parseClientSubjectEntry(trimmed, `${where}:${index + 1}`));
  });
  return entries;
}

/** Validates one subject entry (file line, CLI `--client` argument, API body); returns it trimmed. */
export function parseClientSubjectEntry(entry: string, where: string): string {
  const trimmed = entry.trim();
  if (trimmed.length === 0) {
    throw new InputError(`${where}: empty client certificate subject; write e.g. "CN=<workspaceId>" or "CN=host, OU=Unit, O=Org"`);
  }
  const parsed = parseDn(trimmed);
  if (!parsed.ok) {
    throw new InputError(
      `${where}: invalid client certificate subject "${trimmed}": ${parsed.error}; write e.g. "CN=<workspaceId>" or "CN=host, OU=Unit, O=Org"`,
    );
  }
  return trimmed;
}

/**
 * Whether two entries mean the same thing (same attributes after normalisation, any order), e.g.
 * for `allowlist remove --client` to find "cn=WS1" when the file says "CN=ws1". Unparseable entries
 * fall back to comparing trimmed text.
 */
export function sameClientSubject(a: string, b: string): boolean {
  const pa = parseDn(a);
  const pb = parseDn(b);
  if (!pa.ok || !pb.ok) return a.trim() === b.trim();
  return dnKey(pa.attributes) === dnKey(pb.attributes);
}

interface CompiledEntry {
  /** Set for a lone `CN=value` entry: matches any subject containing that CN. */
  cn?: string;
  key: string;
}

function compileEntry(entry: string): CompiledEntry | undefined {
  const parsed = parseDn(entry);
  if (!parsed.ok) return undefined; // validated entries never get here; an invalid one matches nothing
  const only = parsed.attributes.length === 1 ? parsed.attributes[0] : undefined;
  return { cn: only && only.type === 'CN' ? only.value : undefined, key: dnKey(parsed.attributes) };
}

export class ClientAllowlist {
  readonly allowsAny: boolean;
  /** Keys of full-subject entries. */
  private readonly subjects = new Set<string>();
  /** Values of lone `CN=value` entries. */
  private readonly cns = new Set<string>();

  constructor(entries: readonly string[]) {
    this.allowsAny = entries.length === 0;
    for (const entry of entries) {
      const e = compileEntry(entry);
      if (!e) continue;
      if (e.cn !== undefined) this.cns.add(e.cn);
      else this.subjects.add(e.key);
    }
  }

  /** `subject` in the comma form produced by subjectFromNodeX509. */
  allows(subject: string): boolean {
    if (this.allowsAny) return true;
    const parsed = parseDn(subject);
    if (!parsed.ok) return false;
    if (this.subjects.has(dnKey(parsed.attributes))) return true;
    return parsed.attributes.some((a: DnAttribute) => a.type === 'CN' && this.cns.has(a.value));
  }
}

const compiled = new WeakMap<readonly string[], { snapshot: string[]; list: ClientAllowlist }>();

/**
 * The compiled form of an entry list, reused while the same array holds the same entries (the
 * gateway passes one array to every tunnel until a reload), so a long list is parsed once, not per
 * tunnel. An array changed in place is noticed and recompiled.
 */
export function compiledClientAllowlist(entries: readonly string[]): ClientAllowlist {
  const cached = compiled.get(entries);
  if (cached && cached.snapshot.length === entries.length && cached.snapshot.every((e, i) => e === entries[i])) return cached.list;
  const list = new ClientAllowlist(entries);
  compiled.set(entries, { snapshot: [...entries], list });
  return list;
}

export function isClientSubjectAllowed(subject: string, entries: readonly string[]): boolean {
  return new ClientAllowlist(entries).allows(subject);
}
