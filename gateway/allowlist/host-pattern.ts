import { isIPv4, isIPv6 } from 'node:net';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Normalises a host name the way CONNECT targets are normalised (lower case, one trailing dot removed). */
export function normaliseHost(value: string): string {
  let h = value.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Why `entry` is not a valid allowlist/host-map host (exact name, IP, or `*.suffix`); undefined when valid. */
export function hostPatternProblem(entry: string): string | undefined {
  if (entry.length === 0) return 'empty host';
  if (isIPv4(entry) || isIPv6(entry)) return undefined;
  const name = entry.startsWith('*.') ? entry.slice(2) : entry;
  if (name.includes('*')) return 'a wildcard is only allowed as a leading "*." (e.g. *.blob.core.windows.net)';
  if (name.length > 253) return 'host name is longer than 253 characters';
  const labels = name.split('.');
  if (entry.startsWith('*.') && labels.length < 2) return `"*.${name}" is too broad: the suffix needs at least two labels`;
  for (const l of labels) if (!LABEL.test(l)) return `${JSON.stringify(entry)} is not a valid host name (letters, digits, "-", "_" in dot-separated labels)`;
  return undefined;
}

/**
 * Exact names plus `*.suffix` patterns (a suffix matches sub-domains only, never the bare suffix).
 * `lookup` returns the most specific matching pattern.
 */
export class HostMatcher<T> {
  private readonly exact = new Map<string, T>();
  private readonly suffixes = new Map<string, T>();

  constructor(entries: Iterable<[string, T]> = []) {
    for (const [k, v] of entries) this.set(k, v);
  }

  set(pattern: string, value: T): void {
    if (pattern.startsWith('*.')) this.suffixes.set(pattern.slice(1), value);
    else this.exact.set(pattern, value);
  }

  lookup(host: string): T | undefined {
    const hit = this.exact.get(host);
    if (hit !== undefined) return hit;
    if (this.suffixes.size === 0) return undefined;
    // Walk from the longest suffix to the shortest: ".a.b.c", ".b.c", ".c".
    for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
      const v = this.suffixes.get(host.slice(dot));
      if (v !== undefined) return v;
    }
    return undefined;
  }
}
