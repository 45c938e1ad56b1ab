import { HostMatcher } from '../../gateway/allowlist/host-pattern.js';

/**
 * Which of a fake cloud's host patterns (e.g. `*.azure-automation.net`) the gateway cannot route:
 * a pattern is covered by a host-map entry for it or for a parent suffix, or by a relay proxy
 * (which then resolves every host). `hostMap` entries are `host=ip:port` as the gateway lists them.
 */
export function uncoveredCloudHosts(cloudPatterns: readonly string[], hostMap: readonly string[], relay: boolean): string[] {
  if (relay) return [];
  const matcher = new HostMatcher(hostMap.map((e) => [e.slice(0, e.indexOf('=')).trim().toLowerCase(), true] as [string, true]));
  return cloudPatterns.filter((pattern) => {
    // a sample name under the pattern stands for all of it: "*.blob.core.windows.net" → "x.blob.core.windows.net"
    const sample = pattern.startsWith('*.') ? `x${pattern.slice(1)}` : pattern;
    return matcher.lookup(sample.toLowerCase()) !== true;
  });
}
