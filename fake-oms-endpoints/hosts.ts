/**
 * The Azure hostnames an OMS agent contacts, and how the fake cloud classifies them.
 * Pure helpers: agents and tests may use them to build URLs or host maps.
 */

export const OMS_TLD = 'opinsights.azure.com';
/** The automation agent-service host the 2016 Linux agent talked to (South Central US). */
export const AGENT_SERVICE_HOST = 'scus-agentservice-prod-1.azure-automation.net';
export const ADVISOR_HOST = 'ods.systemcenteradvisor.com';

/** Host patterns the fake cloud answers for (exact or `*.suffix`). */
export const CLOUD_HOST_PATTERNS = ['*.opinsights.azure.com', '*.azure-automation.net', '*.blob.core.windows.net', ADVISOR_HOST] as const;

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type HostKind = 'oms' | 'ods' | 'agentservice' | 'blob' | 'advisor' | 'unknown';
export interface HostClass {
  kind: HostKind;
  /** Workspace named by the host (oms/ods hosts only). */
  workspaceId?: string;
}

export function omsHost(workspaceId: string): string {
  return `${workspaceId}.oms.${OMS_TLD}`;
}
export function odsHost(workspaceId: string): string {
  return `${workspaceId}.ods.${OMS_TLD}`;
}

/** Every hostname an agent of this workspace may contact (what a gateway allowlist needs). */
export function workspaceHostnames(workspaceId: string): string[] {
  return [omsHost(workspaceId), odsHost(workspaceId), AGENT_SERVICE_HOST, ADVISOR_HOST];
}

export function onboardingUrl(workspaceId: string, os: 'linux' | 'windows'): string {
  return `https://${omsHost(workspaceId)}/AgentService.svc/${os === 'linux' ? 'LinuxAgentTopologyRequest' : 'AgentTopologyRequest'}`;
}
export function odsUrl(workspaceId: string): string {
  return `https://${odsHost(workspaceId)}/OperationalData.svc/PostJsonDataItems`;
}
export function dataCollectorUrl(workspaceId: string): string {
  return `https://${odsHost(workspaceId)}/api/logs?api-version=2016-04-01`;
}
/** The DSC endpoint the topology response hands a Linux agent. */
export function dscEndpoint(workspaceId: string, agentId: string): string {
  return `https://${AGENT_SERVICE_HOST}/Accounts/${workspaceId}/Nodes(AgentId='${agentId}')`;
}
export function certificateUpdateEndpoint(workspaceId: string): string {
  return `https://${omsHost(workspaceId)}/ConfigurationService.Svc/RenewCertificate`;
}

/** Strips a `:port` suffix and lower-cases (Host headers, CONNECT targets). */
export function hostWithoutPort(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export function classifyHost(rawHost: string): HostClass {
  const host = hostWithoutPort(rawHost);
  const ws = /^([0-9a-f-]{36})\.(oms|ods)\.opinsights\.azure\.com$/.exec(host);
  if (ws && GUID_RE.test(ws[1])) return { kind: ws[2] as 'oms' | 'ods', workspaceId: ws[1] };
  if (host.endsWith('.azure-automation.net')) return { kind: 'agentservice' };
  if (host.endsWith('.blob.core.windows.net')) return { kind: 'blob' };
  if (host === ADVISOR_HOST) return { kind: 'advisor' };
  return { kind: 'unknown' };
}

/** Whether the oms/ods/agent-service kinds: the ones that authenticate agents by client certificate. */
export function requiresClientCertificate(kind: HostKind): boolean {
  return kind === 'oms' || kind === 'ods' || kind === 'agentservice';
}

/** Glob match for host and path patterns: `*` matches any run of characters, case-insensitive. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(value);
}
