import { HostMatcher } from './host-pattern.js';

/** The live server allowlist: exact FQDNs (case-insensitive) plus `*.suffix` extension entries. */
export class ServerAllowlist {
  private matcher: HostMatcher<true>;
  private list: string[];

  constructor(hosts: readonly string[]) {
    this.list = [...hosts];
    this.matcher = new HostMatcher(hosts.map((h) => [h, true] as [string, true]));
  }

  allows(host: string): boolean {
    return this.matcher.lookup(host) === true;
  }

  get hosts(): readonly string[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }
}
