import { InputError } from '../../lib/errors.js';
import { loadClientAllowlist, loadServerAllowlist } from '../allowlist/allowlist-file.js';
import { hostPatternProblem, normaliseHost } from '../allowlist/host-pattern.js';
import { ServerAllowlist } from '../allowlist/server-allowlist.js';
import type { GatewayConfig } from '../config/config-schema.js';
import { ProxyCredentials, type LiveSettings } from '../live-settings.js';
import { HostMap, loadHostMapFile } from '../routes/host-map.js';
import { parseRelayProxy } from '../routes/relay.js';
import { parseClientSubjectEntry } from '../tls/client-allowlist.js';

/** What the allowlist and host-map files said when they were last read. */
export interface FileEntries {
  hosts: readonly string[];
  subjects: readonly string[];
  hostMap: readonly string[];
}

/** Reads the files a configuration names (InputError naming file and line on a bad one). */
export function readFileEntries(c: Readonly<GatewayConfig>): FileEntries {
  return {
    hosts: c.allowlistFile ? loadServerAllowlist(c.allowlistFile) : [],
    subjects: c.clientAllowlistFile ? loadClientAllowlist(c.clientAllowlistFile) : [],
    hostMap: c.hostMapFile ? loadHostMapFile(c.hostMapFile) : [],
  };
}

/** File entries plus the configuration's own (inline) entries, without duplicates. */
export function savedHosts(c: Readonly<GatewayConfig>, files: FileEntries): string[] {
  const hosts = [...files.hosts];
  for (const [i, h] of c.allowlist.entries()) {
    const host = normaliseHost(h);
    const problem = hostPatternProblem(host);
    if (problem) throw new InputError(`allowlist[${i}]: ${problem}`);
    if (!hosts.includes(host)) hosts.push(host);
  }
  return hosts;
}

export function savedSubjects(c: Readonly<GatewayConfig>, files: FileEntries): string[] {
  const subjects = [...files.subjects];
  for (const [i, s] of c.clientAllowlist.entries()) {
    const subject = parseClientSubjectEntry(s, `clientAllowlist[${i}]`);
    if (!subjects.includes(subject)) subjects.push(subject);
  }
  return subjects;
}

export function hostMapOf(c: Readonly<GatewayConfig>, files: FileEntries): HostMap {
  return new HostMap([...files.hostMap, ...c.hostMap]);
}

/** The settings that depend on the configuration only (no file): relay, credentials, ports, TLS. */
export function configPart(c: Readonly<GatewayConfig>): Omit<LiveSettings, 'allowlist' | 'clientAllowlist' | 'hostMap'> {
  return {
    relay: c.relayProxy ? parseRelayProxy(c.relayProxy, 'relayProxy') : undefined,
    proxyAuth: c.proxyAuth ? ProxyCredentials.parse(c.proxyAuth) : undefined,
    allowedPorts: new Set(c.allowedPorts),
    allowPrivateUpstream: c.allowPrivateUpstream,
    tlsInspection: c.tlsInspection,
    tlsPolicy: c.tls,
  };
}

/** The policy for new connections from a configuration and what its files say. */
export function buildSettings(c: Readonly<GatewayConfig>, files: FileEntries): LiveSettings {
  return {
    allowlist: new ServerAllowlist(savedHosts(c, files)),
    clientAllowlist: savedSubjects(c, files),
    hostMap: hostMapOf(c, files),
    ...configPart(c),
  };
}
