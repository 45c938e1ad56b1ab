import type { Faker } from '@faker-js/faker';
import type { ClientCertificate } from './certificate.js';
import type { AgentIdentity, AgentOs } from './identity.js';

/** The cloud's host names for one workspace (the real TLD unless a lab uses another). */
export interface Endpoints {
  workspaceId: string;
  tld: string;
  omsHost: string;
  odsHost: string;
}

export function endpointsFor(workspaceId: string, tld = 'opinsights.azure.com'): Endpoints {
  return { workspaceId, tld, omsHost: `${workspaceId}.oms.${tld}`, odsHost: `${workspaceId}.ods.${tld}` };
}

/** How much data a collection tick produces (the load tool scales these). */
export interface DataVolume {
  /** Performance counter samples per collection tick. */
  perfSamples: number;
  /** Log rows (syslog lines on Linux, event log entries on Windows) per tick. */
  logRows: number;
  /** Length of each log row's message text. */
  messageBytes: number;
}

export interface CollectContext {
  identity: AgentIdentity;
  faker: Faker;
  now: number;
  volume: DataVolume;
}

/** One data item to create, before the agent stamps its record id on it. */
export interface NewRecord {
  dataType: string;
  item: Record<string, unknown>;
  /**
   * Optional: exactly JSON.stringify(item), built by the collector from ready pieces (the ledger
   * keeps it as the record's itemJson). Leave it out and the item is serialized when first needed.
   */
  json?: string;
}

export interface HttpCall {
  method: 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What differs between the Windows and the Linux agent. Everything else is agent-core. */
export interface AgentProtocol {
  os: AgentOs;
  userAgent(identity: AgentIdentity): string;
  /** Extra CONNECT headers the agent's HTTP stack sends (besides Host and Proxy-Authorization). */
  connectHeaders(identity: AgentIdentity): Record<string, string>;
  topologyPath: string;
  /** Content-Type of topology requests, as the agent's HTTP stack sets it. */
  topologyContentType: string;
  topologyBody(identity: AgentIdentity, cert: ClientCertificate): string;
  /** Interval of the certificate-authenticated topology heartbeat. */
  topologyHeartbeatMs: number;
  /** Interval of heartbeat data rows, or 0 for none. */
  heartbeatRowsMs: number;
  heartbeatRow?(ctx: CollectContext): NewRecord;
  /** Records created by one collection tick. */
  collect(ctx: CollectContext): NewRecord[];
  /**
   * The call to the automation agent-service host after onboarding (Linux: DSC node registration);
   * data uploads wait until it succeeds. Undefined when the agent never needs that host.
   */
  agentServiceCall?(ctx: { identity: AgentIdentity; cert: ClientCertificate; dscEndpoint: string; workspaceId: string; workspaceKey: string; now: number }): HttpCall;
}
