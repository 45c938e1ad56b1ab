import { isIPv4, isIPv6 } from 'node:net';
import { InputError } from '../../lib/errors.js';
import { HostMatcher, hostPatternProblem, normaliseHost } from '../allowlist/host-pattern.js';
import { entryLines, readTextFile } from '../allowlist/allowlist-file.js';

export interface MappedAddress {
  host: string;
  port: number;
}

/** Parses one `host=ip:port` (or `*.suffix=ip:port`, or `[::1]:port`) entry; `where` names its origin. */
export function parseHostMapEntry(entry: string, where: string): [string, MappedAddress] {
  const eq = entry.indexOf('=');
  if (eq <= 0) throw new InputError(`${where}: host map entry ${JSON.stringify(entry)} must be host=ip:port`);
  const pattern = normaliseHost(entry.slice(0, eq));
  const problem = hostPatternProblem(pattern);
  if (problem) throw new InputError(`${where}: host map entry ${JSON.stringify(entry)}: ${problem}`);
  const target = entry.slice(eq + 1).trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):([0-9]{1,5})$/.exec(target);
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2]) : '';
  if (!m || port < 1 || port > 65535) throw new InputError(`${where}: host map entry ${JSON.stringify(entry)}: target must be ip:port with port 1-65535 (IPv6 as [addr]:port)`);
  if (m[1] !== undefined && !isIPv6(host)) throw new InputError(`${where}: host map entry ${JSON.stringify(entry)}: ${host} is not an IPv6 address`);
  if (m[2] !== undefined && !isIPv4(host) && hostPatternProblem(host.toLowerCase())) throw new InputError(`${where}: host map entry ${JSON.stringify(entry)}: ${host} is not an address or host name`);
  return [pattern, { host, port }];
}

/** A host-map file: one `host=ip:port` per line, `#` comments. */
export function loadHostMapFile(path: string): string[] {
  const text = readTextFile(path, 'host map file');
  return entryLines(text).map(({ line, value }) => {
    parseHostMapEntry(value, `${path} line ${line}`);
    return value;
  });
}

/** Explicit routes from Azure host names to local addresses; an explicit entry may point anywhere, loopback included. */
export class HostMap {
  private readonly matcher: HostMatcher<MappedAddress>;
  readonly entries: readonly string[];

  constructor(entries: readonly string[], where = 'hostMap') {
    this.entries = [...entries];
    this.matcher = new HostMatcher(entries.map((e) => parseHostMapEntry(e, where)));
  }

  lookup(host: string): MappedAddress | undefined {
    return this.matcher.lookup(host);
  }
}
