/**
 * The Azure Monitor Agent's control-plane and ingestion hostnames (docs/agents.md, "Azure Monitor
 * Agent"): the global and regional handlers, a data collection endpoint's (DCE) handler and
 * ingestion hosts, and the workspace's ODS host the agent shares with the legacy agents.
 */
import { hostWithoutPort, odsHost } from '../hosts.js';

export const MONITOR_TLD = 'monitor.azure.com';
export const GLOBAL_HANDLER_HOST = `global.handler.control.${MONITOR_TLD}`;
/** Patterns the fake cloud answers for, added to its host map. */
export const AMA_HOST_PATTERNS = [`*.handler.control.${MONITOR_TLD}`, `*.ingest.${MONITOR_TLD}`] as const;
/** Region names as Azure spells them: lower-case letters and digits (eastus, westus2). */
export const REGION_RE = /^[a-z][a-z0-9]{1,30}$/;
/** DCE names as the portal allows them (letters, digits, '-'), followed by Azure's random suffix. */
export const DCE_RE = /^[a-z0-9][a-z0-9-]{1,62}$/;

export function regionalHandlerHost(region: string): string {
  return `${region}.handler.control.${MONITOR_TLD}`;
}
/** `<dce>.<region>-1.handler.control.monitor.azure.com`: the DCE's configuration access endpoint. */
export function dceHandlerHost(dce: string, region: string): string {
  return `${dce}.${region}-1.handler.control.${MONITOR_TLD}`;
}
/** `<dce>.<region>-1.ingest.monitor.azure.com`: the DCE's logs ingestion endpoint. */
export function dceIngestHost(dce: string, region: string): string {
  return `${dce}.${region}-1.ingest.${MONITOR_TLD}`;
}

/**
 * The hosts the gateway documentation tells operators to allow for AMA: the global and regional
 * handlers and the workspace's ODS host; with a DCE, also its handler and ingestion hosts.
 */
export function amaAllowlistHosts(workspaceId: string, region: string, dce?: string): string[] {
  const hosts = [GLOBAL_HANDLER_HOST, regionalHandlerHost(region), odsHost(workspaceId)];
  if (dce) hosts.push(dceHandlerHost(dce, region), dceIngestHost(dce, region));
  return hosts;
}

export type AmaHostClass =
  | { kind: 'global-handler' }
  | { kind: 'regional-handler'; region: string }
  | { kind: 'dce-handler'; dce: string; region: string }
  | { kind: 'dce-ingest'; dce: string; region: string };

export function classifyAmaHost(raw: string): AmaHostClass | undefined {
  const host = hostWithoutPort(raw);
  if (host === GLOBAL_HANDLER_HOST) return { kind: 'global-handler' };
  const handler = /^([a-z0-9-]+)\.handler\.control\.monitor\.azure\.com$/.exec(host);
  if (handler && REGION_RE.test(handler[1]!)) return { kind: 'regional-handler', region: handler[1]! };
  const dceHandler = /^([a-z0-9-]+)\.([a-z0-9]+)-1\.handler\.control\.monitor\.azure\.com$/.exec(host);
  if (dceHandler) return { kind: 'dce-handler', dce: dceHandler[1]!, region: dceHandler[2]! };
  const ingest = /^([a-z0-9-]+)\.([a-z0-9]+)-1\.ingest\.monitor\.azure\.com$/.exec(host);
  if (ingest) return { kind: 'dce-ingest', dce: ingest[1]!, region: ingest[2]! };
  return undefined;
}
