import { authorizationSignature, contentHash, formatAgentDate, decodeSharedKey, signedTopologyHeaders, validateWorkspaceId } from '../agent-core/signing.js';
import { linuxTopologyRequestXml, parseReason, parseTopologyResponse, windowsTopologyRequestXml } from '../agent-core/topology.js';
import { createIdentity } from '../agent-core/identity.js';
import { isInputError } from '../../lib/errors.js';

// Vector computed outside this code, with the commands omsadmin.sh used in 2016:
//   openssl dgst -sha256 -binary body.xml | base64
//   printf '%s\n%s\n' "$DATE" "$HASH" | openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex of base64-decoded key> -binary | base64
const BODY = '<?xml version="1.0"?>\n<AgentTopologyRequest/>\n';
const KEY = 'c2ltdWxhdG9yIHRlc3Qgc2hhcmVkIGtleQ==';
const DATE = '2016-03-01T09:00:00.000000000+00:00';

describe('onboarding signature (auth_key.rb)', () => {
  test('content hash and HMAC match the openssl-computed vector', () => {
    expect(contentHash(BODY)).toBe('MWn+u/ILF/JhE2Y66URNiCuT/fvhtqwCKm9ZGvUkNw0=');
    expect(authorizationSignature(DATE, 'MWn+u/ILF/JhE2Y66URNiCuT/fvhtqwCKm9ZGvUkNw0=', KEY)).toBe('oIhuZ88MZcbuGYs68E5x4oY/rhIQUfGDEprq8rih0i0=');
  });

  test('date header has the `date +%Y-%m-%dT%T.%N%:z` form', () => {
    expect(formatAgentDate(Date.UTC(2016, 2, 1, 9, 0, 0))).toBe(DATE);
    expect(formatAgentDate(Date.UTC(2016, 11, 31, 23, 59, 59, 987))).toBe('2016-12-31T23:59:59.987000000+00:00');
  });

  test('headers carry the workspace id, signature, version and user agent', () => {
    const ws = '00000000-1111-2222-3333-444444444444';
    const h = signedTopologyHeaders({ workspaceId: ws, sharedKey: KEY, body: BODY, epochMs: Date.UTC(2016, 2, 1, 9), userAgent: 'LinuxMonitoringAgent/1.1.0-28' });
    expect(h).toEqual({
      'x-ms-Date': DATE,
      'x-ms-version': 'August, 2014',
      'x-ms-SHA256_Content': 'MWn+u/ILF/JhE2Y66URNiCuT/fvhtqwCKm9ZGvUkNw0=',
      Authorization: `${ws}; oIhuZ88MZcbuGYs68E5x4oY/rhIQUfGDEprq8rih0i0=`,
      'User-Agent': 'LinuxMonitoringAgent/1.1.0-28',
      'Accept-Language': 'en-US',
    });
  });

  test('bad workspace ids and keys are InputErrors that say what to fix', () => {
    expect(() => validateWorkspaceId('not-a-guid')).toThrow(/must be a GUID/);
    expect(() => signedTopologyHeaders({ workspaceId: 'x', sharedKey: 'not base64!', body: '', epochMs: 0, userAgent: '' })).toThrow(/base64 shared key/);
    const caught = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(isInputError(caught(() => validateWorkspaceId('nope')))).toBe(true);
    expect(isInputError(caught(() => decodeSharedKey('not base64!')))).toBe(true);
  });
});

describe('topology request XML', () => {
  const id = { ...createIdentity('linux', 1), fqdn: 'web-01.contoso.local', agentGuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', osName: 'Ubuntu', osManufacturer: 'Canonical Group Limited', osVersion: '14.04' };

  test('Linux: the omsadmin.sh echo form, misspelt element and multi-line PEM body included', () => {
    expect(linuxTopologyRequestXml(id, 'MIIB\nABCD')).toBe(
      '<?xml version="1.0"?>\n' +
        '<AgentTopologyRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.microsoft.com/WorkloadMonitoring/HealthServiceProtocol/2014/09/">\n' +
        '   <FullyQualfiedDomainName>web-01.contoso.local</FullyQualfiedDomainName>\n' +
        '   <EntityTypeId>aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</EntityTypeId>\n' +
        '   <AuthenticationCertificate>MIIB\nABCD</AuthenticationCertificate>\n' +
        '   <OperatingSystem>\n' +
        '      <Name>Ubuntu</Name>\n' +
        '      <Manufacturer>Canonical Group Limited</Manufacturer>\n' +
        '      <ProcessorArchitecture>x64</ProcessorArchitecture>\n' +
        '      <Version>14.04</Version>\n' +
        '   </OperatingSystem>\n' +
        '</AgentTopologyRequest>\n',
    );
  });

  test('Windows: one line, base64 DER certificate, values escaped', () => {
    const xml = windowsTopologyRequestXml({ ...id, os: 'windows', osName: 'A & B <x>' }, 'MIIBDER==');
    expect(xml).toMatch(/^<\?xml version="1.0"\?><AgentTopologyRequest [^>]+><FullyQualfiedDomainName>web-01.contoso.local<\/FullyQualfiedDomainName>/);
    expect(xml).toContain('<AuthenticationCertificate>MIIBDER==</AuthenticationCertificate>');
    expect(xml).toContain('<Name>A &amp; B &lt;x&gt;</Name>');
    expect(xml).not.toContain('\n');
  });

  test('response: DSC endpoint, certificate update endpoint and 403 reason are extracted', () => {
    const r = parseTopologyResponse(
      `<?xml version="1.0"?><LinuxAgentTopologyResponse><CertificateUpdateEndpoint updateCertificate="false">https://ws.oms.opinsights.azure.com/ConfigurationService.Svc/RenewCertificate</CertificateUpdateEndpoint><DscConfiguration><Endpoint>https://scus-agentservice-prod-1.azure-automation.net/Accounts/ws/Nodes(AgentId=&apos;g&apos;)</Endpoint></DscConfiguration></LinuxAgentTopologyResponse>`,
    );
    expect(r).toEqual({
      dscEndpoint: "https://scus-agentservice-prod-1.azure-automation.net/Accounts/ws/Nodes(AgentId='g')",
      certificateUpdateEndpoint: 'https://ws.oms.opinsights.azure.com/ConfigurationService.Svc/RenewCertificate',
      updateCertificate: false,
    });
    expect(parseTopologyResponse('<AgentTopologyResponse/>')).toEqual({});
    expect(parseReason('<Error><Reason>Invalid signature &amp; date</Reason></Error>')).toBe('Invalid signature & date');
  });
});
