import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { GUID_RE, certificateUpdateEndpoint, dscEndpoint } from '../hosts.js';

/** Namespace of the agent/service topology messages (HealthServiceProtocol 2014/09). */
export const TOPOLOGY_NS = 'http://schemas.microsoft.com/WorkloadMonitoring/HealthServiceProtocol/2014/09/';

export interface TopologyRequest {
  /** Spelt `FullyQualfiedDomainName` on the wire, as the real agents do. */
  fqdn: string;
  /** The agent GUID. */
  entityTypeId: string;
  /** PEM body of the agent certificate. */
  authenticationCertificate: string;
  operatingSystem?: { name?: string; manufacturer?: string; version?: string; processorArchitecture?: string; inContainer?: string };
}

export type TopologyParseResult = { ok: true; request: TopologyRequest } | { ok: false; reason: string };

const parser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: true, processEntities: true });

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** Parses and checks an AgentTopologyRequest body; the reason names what is wrong. */
export function parseTopologyRequest(body: string): TopologyParseResult {
  if (body.trim() === '') return { ok: false, reason: 'Malformed XML: empty request body' };
  const valid = XMLValidator.validate(body);
  if (valid !== true) return { ok: false, reason: `Malformed XML: ${valid.err.msg} (line ${valid.err.line})` };
  const doc = parser.parse(body) as Record<string, unknown>;
  const root = doc.AgentTopologyRequest as Record<string, unknown> | undefined;
  if (!root || typeof root !== 'object') {
    const found = Object.keys(doc).filter((k) => k !== '?xml');
    return { ok: false, reason: `Malformed XML: root element must be AgentTopologyRequest, found ${found.join(', ') || 'none'}` };
  }
  const fqdn = text(root.FullyQualfiedDomainName);
  if (!fqdn) {
    const hint = 'FullyQualifiedDomainName' in root ? ' (the service expects the misspelt FullyQualfiedDomainName)' : '';
    return { ok: false, reason: `Missing element FullyQualfiedDomainName${hint}` };
  }
  const entityTypeId = text(root.EntityTypeId);
  if (!entityTypeId) return { ok: false, reason: 'Missing element EntityTypeId' };
  if (!GUID_RE.test(entityTypeId)) return { ok: false, reason: `EntityTypeId is not a GUID: ${entityTypeId}` };
  const authenticationCertificate = text(root.AuthenticationCertificate);
  if (!authenticationCertificate) return { ok: false, reason: 'Missing element AuthenticationCertificate' };
  const os = root.OperatingSystem as Record<string, unknown> | undefined;
  return {
    ok: true,
    request: {
      fqdn,
      entityTypeId: entityTypeId.toLowerCase(),
      authenticationCertificate,
      operatingSystem:
        os && typeof os === 'object'
          ? { name: text(os.Name), manufacturer: text(os.Manufacturer), version: text(os.Version), processorArchitecture: text(os.ProcessorArchitecture), inContainer: text(os.InContainer) }
          : undefined,
    },
  };
}

/** Text-content escaping: quotes stay literal, as in the service's Nodes(AgentId='...') endpoint. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The service's answer, in the form agent_maintenance_script.rb reads:
 * /LinuxAgentTopologyResponse/CertificateUpdateEndpoint and /LinuxAgentTopologyResponse/DscConfiguration/Endpoint.
 * Windows agents get the same document under the AgentTopologyResponse root, without the DSC part.
 */
export function topologyResponseXml(opts: { os: 'linux' | 'windows'; workspaceId: string; agentId: string; responseId: string; queryInterval?: string; telemetryReportInterval?: string }): string {
  const root = opts.os === 'linux' ? 'LinuxAgentTopologyResponse' : 'AgentTopologyResponse';
  const dsc =
    opts.os === 'linux'
      ? `<DscConfiguration><Endpoint>${esc(dscEndpoint(opts.workspaceId, opts.agentId))}</Endpoint><NodeConfigurationName>MicrosoftOperationsManagementLinuxConfiguration.common</NodeConfigurationName></DscConfiguration>`
      : '';
  return (
    `<?xml version="1.0" encoding="utf-8"?><${root} queryInterval="${opts.queryInterval ?? 'PT1H'}" telemetryReportInterval="${opts.telemetryReportInterval ?? 'PT10M'}" id="${opts.responseId}" ` +
    `xmlns="${TOPOLOGY_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<CertificateUpdateEndpoint updateCertificate="false">${esc(certificateUpdateEndpoint(opts.workspaceId))}</CertificateUpdateEndpoint>${dsc}</${root}>`
  );
}

/** 403 body: omsadmin.sh extracts `<Reason>(.*)</Reason>` with sed, so keep it on one line. */
export function errorXml(reason: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Error xmlns="${TOPOLOGY_NS}"><Reason>${esc(reason.replace(/\s+/g, ' '))}</Reason></Error>`;
}
