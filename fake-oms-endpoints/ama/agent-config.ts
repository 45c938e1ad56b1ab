import { createHash } from 'node:crypto';
import { odsHost } from '../hosts.js';
import { dceHandlerHost, dceIngestHost, regionalHandlerHost } from './hosts.js';
import { machineResourceId, type AmaMachine } from './machine.js';
import type { AmaSettings } from './settings.js';

/** The api-version the agent and the handler use (seen in the agent's own logs). */
export const HANDLER_API_VERSION = '2022-06-02';
/** The Logs Ingestion API version in a DCE channel's endpointUriTemplate as the handler hands it out. */
export const DCE_API_VERSION = '2021-11-01-preview';
/** The custom table the lab's DCR sends file logs to (through the DCE). */
export const CUSTOM_STREAM = 'Custom-OmsgwApp_CL';

/** `dcr-` + 32 hex digits, stable per workspace: the rule's immutable id. */
export function dcrIdFor(workspaceId: string): string {
  return `dcr-${createHash('sha256').update(`dcr:${workspaceId.toLowerCase()}`).digest('hex').slice(0, 32)}`;
}
export function dceChannelId(dce: string): string {
  return `gigl-dce-${createHash('sha256').update(`dce:${dce}`).digest('hex').slice(0, 32)}`;
}

/** Where the agent asks for an ingestion token for one channel (always the regional or DCE handler). */
function tokenEndpoint(handlerHost: string, m: AmaMachine, dcrId: string, channelId: string, region: string): string {
  return `https://${handlerHost}${machineResourceId(m)}/agentConfigurations/${dcrId}/channels/${channelId}/issueIngestionToken?operatingLocation=${region}&platform=${m.platform}&includeMeConfig=true&api-version=${HANDLER_API_VERSION}`;
}

/**
 * The agent configuration the handler returns for a machine associated with `workspaceId`: one data
 * collection rule with a syslog source to the workspace's ODS channel and, with a DCE, a text-log
 * source to the DCE's "gig" channel. Shapes follow configurations captured from real agents
 * (docs/agents.md cites them).
 */
export function agentConfiguration(m: AmaMachine, workspaceId: string, s: AmaSettings): unknown {
  const dcrId = dcrIdFor(workspaceId);
  const tokenHost = s.configVia === 'dce' && s.dce ? dceHandlerHost(s.dce, s.region) : regionalHandlerHost(s.region);
  const odsChannel = `ods-${workspaceId.toLowerCase()}`;
  const dataSources: unknown[] = [
    {
      configuration: { facilityNames: ['auth', 'daemon', 'syslog'], logLevels: ['Info', 'Notice', 'Warning', 'Error', 'Critical', 'Alert', 'Emergency'] },
      id: 'syslogDataSource',
      kind: 'syslog',
      streams: [{ stream: 'LINUX_SYSLOGS_BLOB', solution: 'LogManagement' }],
      sendToChannels: [odsChannel],
    },
  ];
  const channels: unknown[] = [{ endpoint: `https://${odsHost(workspaceId.toLowerCase())}`, tokenEndpointUri: tokenEndpoint(tokenHost, m, dcrId, odsChannel, s.region), id: odsChannel, protocol: 'ods' }];
  if (s.dce) {
    const gig = dceChannelId(s.dce);
    dataSources.push({ configuration: { filePatterns: ['/var/log/omsgw/*.log'], format: 'text' }, id: 'OmsgwApp_CL', kind: 'logFile', streams: [{ stream: CUSTOM_STREAM }], sendToChannels: [gig] });
    channels.push({
      endpointUriTemplate: `https://${dceIngestHost(s.dce, s.region)}/dataCollectionRules/${dcrId}/streams/<STREAM>?api-version=${DCE_API_VERSION}`,
      tokenEndpointUri: tokenEndpoint(tokenHost, m, dcrId, gig, s.region),
      id: gig,
      protocol: 'gig',
    });
  }
  const content = s.dcr === 'unparsable' ? { dataSources: 'syslog', channels: null } : { dataSources, channels };
  return { configurations: [{ configurationId: dcrId, eTag: `${dcrId}/"${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16)}"`, op: 'added', content }] };
}
