import { randomUUID } from 'node:crypto';
import { classifyHost, type HostClass } from './hosts.js';
import type { CertificateInfo } from './protocol/certificates.js';
import { certificateInfoFromPemBody } from './protocol/certificates.js';
import { verifyOnboardingHeaders } from './protocol/onboarding.js';
import { errorXml, parseTopologyRequest, topologyResponseXml } from './protocol/topology.js';
import { decodeBody, parseDataCollectorBody, parseOdsPayload, recordIdsOf } from './protocol/ods.js';
import { verifyDataCollectorRequest } from './protocol/data-collector.js';
import type { AgentRegistry } from './registry.js';
import type { IngestionLedger } from './ledger.js';
import type { Clock } from '../lib/clock.js';
import { classifyAmaHost } from './ama/hosts.js';
import { handleAmaHandler } from './ama/handler.js';
import { handleAmaOds, handleDceIngest } from './ama/ingest.js';
import type { AmaState } from './ama/state.js';

export type { CloudRequest, Reply } from './request.js';
import type { CloudRequest, Reply } from './request.js';

export interface CloudState {
  keyOf(workspaceId: string): string | undefined;
  registry: AgentRegistry;
  ledger: IngestionLedger;
  clock: Clock;
  blobs: BlobStore;
  /** Azure Monitor Agent control plane and ingestion (fake-oms-endpoints/ama/). */
  ama: AmaState;
}

/** Minimal blob storage: enough for PUT then GET; bounded so a load test cannot exhaust memory. */
export class BlobStore {
  private blobs = new Map<string, Buffer>();
  private bytes = 0;
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}
  put(key: string, body: Buffer): boolean {
    const old = this.blobs.get(key)?.length ?? 0;
    if (this.bytes - old + body.length > this.maxBytes) return false;
    this.blobs.set(key, body);
    this.bytes += body.length - old;
    return true;
  }
  get(key: string): Buffer | undefined {
    return this.blobs.get(key);
  }
  clear(): void {
    this.blobs.clear();
    this.bytes = 0;
  }
}

const XML = { 'content-type': 'text/xml; charset=utf-8' };
const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { ...JSON_CT, ...headers }, body: JSON.stringify(body) };
}
/** Error shape the ingestion endpoints use: {"Error": "<code>", "Message": "<text>"}. */
function serviceError(status: number, error: string, message: string): Reply {
  return json(status, { Error: error, Message: message });
}
function forbiddenXml(reason: string): Reply {
  return { status: 403, headers: XML, body: errorXml(reason) };
}

export function handleCloudRequest(req: CloudRequest, state: CloudState): Reply {
  const ama = classifyAmaHost(req.host);
  if (ama) return ama.kind === 'dce-ingest' ? handleDceIngest(req, ama, state.ama) : handleAmaHandler(req, ama, state.ama);
  const hc = classifyHost(req.host);
  switch (hc.kind) {
    case 'oms':
      return handleOms(req, hc, state);
    case 'ods':
      return handleOds(req, hc, state);
    case 'agentservice':
      return handleAgentService(req, state);
    case 'blob':
      return handleBlob(req, state);
    case 'advisor':
      return { status: 200, headers: JSON_CT, body: '{}' };
    default:
      return serviceError(404, 'UnknownHost', `the fake cloud does not serve host ${req.host}`);
  }
}

const TOPOLOGY_PATHS: Record<string, 'linux' | 'windows'> = {
  '/agentservice.svc/linuxagenttopologyrequest': 'linux',
  '/agentservice.svc/agenttopologyrequest': 'windows',
};

function handleOms(req: CloudRequest, hc: HostClass, state: CloudState): Reply {
  const os = TOPOLOGY_PATHS[req.path.toLowerCase()];
  if (!os) return serviceError(404, 'NotFound', `no such agent service operation: ${req.path}`);
  if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST', ...JSON_CT }, body: JSON.stringify({ Error: 'MethodNotAllowed', Message: 'topology requests are POST' }) };
  const ws = hc.workspaceId!;
  if (!state.keyOf(ws)) return forbiddenXml(`Unknown workspace ${ws}`);
  const now = new Date(state.clock.now()).toISOString();

  // Heartbeat: certificate-authenticated, no shared-key signature.
  if (req.headers.authorization === undefined) {
    const agent = state.registry.byCertificate(req.peer?.thumbprint);
    if (!agent) return forbiddenXml(req.peer ? `Client certificate ${req.peer.subject} is not registered; onboard with a signed request first` : 'Missing Authorization header and no client certificate was presented');
    if (agent.workspaceId !== ws) return forbiddenXml(`Client certificate is registered to workspace ${agent.workspaceId}, not ${ws}`);
    agent.heartbeats += 1;
    agent.lastSeenAt = now;
    return { status: 200, headers: XML, body: topologyResponseXml({ os: agent.os, workspaceId: ws, agentId: agent.agentId, responseId: randomUUID() }) };
  }

  const check = verifyOnboardingHeaders({ headers: req.headers, body: req.body, hostWorkspaceId: ws, keyOf: state.keyOf, now: state.clock.now() });
  if (!check.ok) return forbiddenXml(check.reason);
  const parsed = parseTopologyRequest(req.body.toString('utf8'));
  if (!parsed.ok) return forbiddenXml(parsed.reason);
  let cert: CertificateInfo;
  try {
    cert = certificateInfoFromPemBody(parsed.request.authenticationCertificate);
  } catch (err) {
    return forbiddenXml(`Invalid AuthenticationCertificate: ${(err as Error).message}`);
  }
  const cns = cert.commonNames.map((c) => c.toLowerCase());
  if (!cns.includes(ws.toLowerCase()) || !cns.includes(parsed.request.entityTypeId)) {
    return forbiddenXml(`AuthenticationCertificate subject (${cert.subject}) must contain CN=${ws} and CN=${parsed.request.entityTypeId}`);
  }
  if (req.peer && req.peer.thumbprint !== cert.thumbprint) {
    return forbiddenXml(`The TLS client certificate (${req.peer.subject}) is not the AuthenticationCertificate of the request`);
  }
  const agent = state.registry.register({ workspaceId: ws, os, request: parsed.request, cert, now });
  return { status: 200, headers: XML, body: topologyResponseXml({ os, workspaceId: ws, agentId: agent.agentId, responseId: randomUUID() }) };
}

function handleOds(req: CloudRequest, hc: HostClass, state: CloudState): Reply {
  const ws = hc.workspaceId!;
  const path = req.path.toLowerCase();
  if (path === '/api/logs') return handleDataCollector(req, ws, state);
  // The Azure Monitor Agent authenticates with the handler's ingestion token, not a client certificate.
  if (/^bearer\s/i.test(String(req.headers.authorization ?? ''))) return handleAmaOds(req, ws, state.ama);
  if (path !== '/operationaldata.svc/postjsondataitems') return serviceError(404, 'NotFound', `no such ingestion operation: ${req.path}`);
  if (req.method !== 'POST') return serviceError(405, 'MethodNotAllowed', 'PostJsonDataItems is POST');
  if (!state.keyOf(ws)) return serviceError(403, 'UnknownWorkspace', `Unknown workspace ${ws}`);
  if (!req.peer) return serviceError(403, 'MissingCertificate', 'PostJsonDataItems requires the agent certificate (mutual TLS); none was presented');
  const agent = state.registry.byCertificate(req.peer.thumbprint);
  if (!agent) return serviceError(403, 'UnknownAgent', `Client certificate ${req.peer.subject} (${req.peer.thumbprint}) is not a registered agent`);
  if (agent.workspaceId !== ws) return serviceError(403, 'WrongWorkspace', `Agent ${agent.agentId} is registered to workspace ${agent.workspaceId}, not ${ws}`);
  const decoded = decodeBody(req.body, req.headers['content-encoding'] as string | undefined);
  if (!decoded.ok) return serviceError(decoded.status, 'InvalidContent', decoded.reason);
  const parsed = parseOdsPayload(decoded.body);
  if (!parsed.ok) return serviceError(400, 'InvalidJson', parsed.reason);
  state.ledger.record({
    workspaceId: ws,
    agentId: agent.agentId,
    dataType: parsed.payload.dataType,
    records: parsed.payload.items.length,
    bytes: req.body.length,
    decodedBytes: decoded.body.length,
    recordIds: parsed.payload.recordIds,
  });
  agent.lastSeenAt = new Date(state.clock.now()).toISOString();
  return { status: 200, headers: { 'x-request-id': String(req.headers['x-request-id'] ?? randomUUID()) } };
}

/** Agent id recorded in the ledger for Data Collector API posts (they carry no agent identity). */
export const DATA_COLLECTOR_AGENT = 'data-collector-api';

function handleDataCollector(req: CloudRequest, ws: string, state: CloudState): Reply {
  if (req.method !== 'POST') return serviceError(405, 'MethodNotAllowed', '/api/logs is POST');
  const apiVersion = req.query.get('api-version');
  if (apiVersion !== '2016-04-01') return serviceError(400, 'InvalidApiVersion', `api-version must be 2016-04-01, got ${apiVersion ?? 'none'}`);
  const check = verifyDataCollectorRequest({ headers: req.headers, bodyLength: req.body.length, hostWorkspaceId: ws, keyOf: state.keyOf, now: state.clock.now() });
  if (!check.ok) return serviceError(check.status, check.error, check.reason);
  const decoded = decodeBody(req.body, req.headers['content-encoding'] as string | undefined);
  if (!decoded.ok) return serviceError(decoded.status, 'InvalidContent', decoded.reason);
  const parsed = parseDataCollectorBody(decoded.body);
  if (!parsed.ok) return serviceError(400, 'InvalidDataFormat', parsed.reason);
  state.ledger.record({
    workspaceId: ws,
    agentId: DATA_COLLECTOR_AGENT,
    dataType: check.logType,
    records: parsed.items.length,
    bytes: req.body.length,
    decodedBytes: decoded.body.length,
    recordIds: recordIdsOf(parsed.items),
  });
  return { status: 200 };
}

const NODE_RE = /^\/accounts\/([0-9a-f-]{36})\/nodes\(agentid='([0-9a-f-]{36})'\)(\/.*)?$/i;

function handleAgentService(req: CloudRequest, state: CloudState): Reply {
  const m = NODE_RE.exec(req.path);
  if (!m) return serviceError(404, 'NotFound', `no such agent service resource: ${req.path} (expected /Accounts/<ws>/Nodes(AgentId='<guid>')...)`);
  const [, ws, agentId, rest = ''] = m;
  if (!state.keyOf(ws)) return serviceError(404, 'AccountNotFound', `Unknown workspace ${ws}`);
  if (!req.peer) return serviceError(401, 'MissingCertificate', 'the agent service requires the agent certificate (mutual TLS)');
  const agent = state.registry.byCertificate(req.peer.thumbprint);
  if (!agent) return serviceError(403, 'UnknownAgent', `Client certificate ${req.peer.subject} is not a registered agent`);
  if (agent.workspaceId !== ws.toLowerCase() || agent.agentId !== agentId.toLowerCase()) {
    return serviceError(403, 'NodeMismatch', `the client certificate belongs to agent ${agent.agentId} of workspace ${agent.workspaceId}, not ${agentId} of ${ws}`);
  }
  agent.dscCalls += 1;
  agent.lastSeenAt = new Date(state.clock.now()).toISOString();
  const op = rest.toLowerCase();
  if (op === '' && req.method === 'PUT') {
    agent.dscRegistered = true;
    return json(200, { AgentId: agent.agentId, NodeStatus: 'Registered' }, { ProtocolVersion: '2.0' });
  }
  if (op === '/getdscaction' && req.method === 'POST') {
    if (!agent.dscRegistered) return serviceError(404, 'NodeNotRegistered', `node ${agentId} must be registered (PUT .../Nodes(AgentId='${agentId}')) before GetDscAction`);
    return json(200, { NodeStatus: 'Ok', Details: [{ ConfigurationName: 'MicrosoftOperationsManagementLinuxConfiguration.common', Status: 'Ok' }] }, { ProtocolVersion: '2.0' });
  }
  const isDocument = op === '/getdscdocument' || /^\/configurations\(configurationname='[^']+'\)\/content$/.test(op);
  if (isDocument && (req.method === 'POST' || req.method === 'GET')) {
    if (!agent.dscRegistered) return serviceError(404, 'NodeNotRegistered', `node ${agentId} must be registered before fetching its configuration`);
    const mof = `instance of OMI_ConfigurationDocument\n{\n Version="2.0.0";\n Name="MicrosoftOperationsManagementLinuxConfiguration";\n};\n`;
    return { status: 200, headers: { 'content-type': 'application/octet-stream', ProtocolVersion: '2.0', Checksum: 'fake', ChecksumAlgorithm: 'SHA-256' }, body: mof };
  }
  if (op === '/sendreport' && req.method === 'POST') return json(200, {}, { ProtocolVersion: '2.0' });
  return serviceError(404, 'NotFound', `no such DSC operation: ${req.method} ${req.path}`);
}

function handleBlob(req: CloudRequest, state: CloudState): Reply {
  const key = `${req.host.toLowerCase()}${req.path}`;
  if (req.method === 'PUT') {
    if (req.headers['x-ms-blob-type'] !== 'BlockBlob') return serviceError(400, 'MissingRequiredHeader', 'Put Blob needs x-ms-blob-type: BlockBlob');
    if (!state.blobs.put(key, req.body)) return serviceError(507, 'StorageFull', 'the fake blob store is full (64 MiB)');
    return { status: 201, headers: { etag: `"${randomUUID()}"` } };
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const blob = state.blobs.get(key);
    if (!blob) return serviceError(404, 'BlobNotFound', `no blob at ${key}`);
    return { status: 200, headers: { 'content-type': 'application/octet-stream', 'x-ms-blob-type': 'BlockBlob' }, body: req.method === 'HEAD' ? undefined : blob };
  }
  return serviceError(405, 'UnsupportedHttpVerb', `blob ${req.method} is not supported by the fake cloud`);
}
