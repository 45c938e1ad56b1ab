import type { AgentIdentity } from './identity.js';

const NS =
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.microsoft.com/WorkloadMonitoring/HealthServiceProtocol/2014/09/"';

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The Linux agent's topology request body, line for line as omsadmin.sh echoes it (three-space
 * indent, the misspelt `FullyQualfiedDomainName`, the PEM body with its line breaks, then
 * append_telemetry's OperatingSystem block), ending with a newline.
 */
export function linuxTopologyRequestXml(id: AgentIdentity, certPemBody: string): string {
  return [
    '<?xml version="1.0"?>',
    `<AgentTopologyRequest ${NS}>`,
    `   <FullyQualfiedDomainName>${xmlEscape(id.fqdn)}</FullyQualfiedDomainName>`,
    `   <EntityTypeId>${id.agentGuid}</EntityTypeId>`,
    `   <AuthenticationCertificate>${certPemBody}</AuthenticationCertificate>`,
    '   <OperatingSystem>',
    `      <Name>${xmlEscape(id.osName)}</Name>`,
    `      <Manufacturer>${xmlEscape(id.osManufacturer)}</Manufacturer>`,
    `      <ProcessorArchitecture>${id.processorArchitecture}</ProcessorArchitecture>`,
    `      <Version>${xmlEscape(id.osVersion)}</Version>`,
    '   </OperatingSystem>',
    '</AgentTopologyRequest>',
    '',
  ].join('\n');
}

/**
 * The Windows agent's topology request: the same schema serialised on one line, with the
 * certificate as base64 DER (X509Certificate2.GetRawCertData()) and the NetBIOS host name.
 */
export function windowsTopologyRequestXml(id: AgentIdentity, certDerBase64: string): string {
  return (
    `<?xml version="1.0"?><AgentTopologyRequest ${NS}>` +
    `<FullyQualfiedDomainName>${xmlEscape(id.fqdn)}</FullyQualfiedDomainName>` +
    `<EntityTypeId>${id.agentGuid}</EntityTypeId>` +
    `<AuthenticationCertificate>${certDerBase64}</AuthenticationCertificate>` +
    `<OperatingSystem><Name>${xmlEscape(id.osName)}</Name><Manufacturer>${xmlEscape(id.osManufacturer)}</Manufacturer>` +
    `<ProcessorArchitecture>${id.processorArchitecture}</ProcessorArchitecture><Version>${xmlEscape(id.osVersion)}</Version></OperatingSystem>` +
    `</AgentTopologyRequest>`
  );
}

export interface TopologyResponse {
  /** DscConfiguration/Endpoint: the automation agent-service node URL (Linux agents register there). */
  dscEndpoint?: string;
  certificateUpdateEndpoint?: string;
  updateCertificate?: boolean;
  /** The root element's queryInterval (ISO 8601 duration, e.g. PT1H) in ms: when the agent should send its next topology request. */
  queryIntervalMs?: number;
}

/** An ISO 8601 duration of days, hours, minutes and seconds (P1D, PT1H, PT20M, PT90S) in ms; undefined if it is not one. */
export function parseIsoDurationMs(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  const [d, h, min, sec] = [m[1], m[2], m[3], m[4]].map((v) => Number(v ?? 0));
  return Math.round((((d! * 24 + h!) * 60 + min!) * 60 + sec!) * 1000);
}

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Extracts what the agent uses from a topology response, as apply_dsc_endpoint / apply_certificate_update_endpoint do. */
export function parseTopologyResponse(xml: string): TopologyResponse {
  const out: TopologyResponse = {};
  const root = /<\w+\b[^>]*\bqueryInterval="([^"]*)"/.exec(xml);
  const interval = root ? parseIsoDurationMs(root[1]!) : undefined;
  if (interval !== undefined) out.queryIntervalMs = interval;
  const dsc = /<DscConfiguration\b[\s\S]*?<\/DscConfiguration>/.exec(xml);
  const ep = dsc && /<Endpoint>([\s\S]*?)<\/Endpoint>/.exec(dsc[0]);
  if (ep) out.dscEndpoint = unescape(ep[1]!.trim());
  const cu = /<CertificateUpdateEndpoint\b([^>]*)>([\s\S]*?)<\/CertificateUpdateEndpoint>/.exec(xml);
  if (cu) {
    out.certificateUpdateEndpoint = unescape(cu[2]!.trim());
    const attr = /updateCertificate="(true|false)"/.exec(cu[1]!);
    if (attr) out.updateCertificate = attr[1] === 'true';
  }
  return out;
}

/** `<Reason>` of a 403 from the agent service (omsadmin.sh prints it). */
export function parseReason(body: string): string | undefined {
  const m = /<Reason>([\s\S]*?)<\/Reason>/.exec(body);
  return m ? unescape(m[1]!.trim()) : undefined;
}
