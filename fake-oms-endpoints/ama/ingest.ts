import { randomUUID } from 'node:crypto';
import type { CloudRequest, Reply } from '../request.js';
import { decodeBody, parseDataCollectorBody, parseOdsPayload, recordIdsOf } from '../protocol/ods.js';
import { CUSTOM_STREAM, dcrIdFor } from './agent-config.js';
import { amaError } from './handler.js';
import type { AmaHostClass } from './hosts.js';
import type { AmaState } from './state.js';
import { INGESTION_AUDIENCE, parseBearer, verifyToken, type Claims } from './tokens.js';

/** The Logs Ingestion API refuses calls over 1 MB. */
export const DCE_MAX_BODY = 1024 * 1024;

function authenticate(req: CloudRequest, state: AmaState): { ok: true; claims: Claims } | { ok: false; reply: Reply } {
  const check = verifyToken(parseBearer(req.headers.authorization), state.key!, INGESTION_AUDIENCE, state.clock.now());
  if (!check.ok) return { ok: false, reply: amaError(401, check.code, check.message) };
  return check;
}

/**
 * AMA's upload to the workspace's ODS host: the legacy agents' PostJsonDataItems, authenticated by
 * the handler's ingestion token instead of a client certificate.
 */
export function handleAmaOds(req: CloudRequest, workspaceId: string, state: AmaState): Reply {
  if (req.path.toLowerCase() !== '/operationaldata.svc/postjsondataitems') return amaError(404, 'NotFound', `no such ingestion operation: ${req.path}`);
  if (req.method !== 'POST') return amaError(405, 'MethodNotAllowed', 'PostJsonDataItems is POST');
  if (!state.keyOf(workspaceId)) return amaError(403, 'UnknownWorkspace', `Unknown workspace ${workspaceId}`);
  const auth = authenticate(req, state);
  if (!auth.ok) return auth.reply;
  if (String(auth.claims.wid).toLowerCase() !== workspaceId.toLowerCase()) return amaError(403, 'WrongWorkspace', `the ingestion token is for workspace ${String(auth.claims.wid)}, not ${workspaceId}`);
  const decoded = decodeBody(req.body, req.headers['content-encoding'] as string | undefined);
  if (!decoded.ok) return amaError(decoded.status, 'InvalidContent', decoded.reason);
  const parsed = parseOdsPayload(decoded.body);
  if (!parsed.ok) return amaError(400, 'InvalidJson', parsed.reason);
  state.ledger.record({ workspaceId: workspaceId.toLowerCase(), agentId: String(auth.claims.oid), dataType: parsed.payload.dataType, records: parsed.payload.items.length, bytes: req.body.length, decodedBytes: decoded.body.length, recordIds: parsed.payload.recordIds });
  return { status: 200, headers: { 'x-request-id': String(req.headers['x-request-id'] ?? randomUUID()) } };
}

const STREAM_RE = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/i;

/** The DCE's Logs Ingestion API: POST /dataCollectionRules/<dcr>/streams/<stream>, JSON array, 204. */
export function handleDceIngest(req: CloudRequest, host: Extract<AmaHostClass, { kind: 'dce-ingest' }>, state: AmaState): Reply {
  const s = state.settings;
  if (host.dce !== s.dce || host.region !== s.region) return amaError(404, 'DataCollectionEndpointNotFound', `no data collection endpoint ${host.dce} in ${host.region}`);
  const m = STREAM_RE.exec(req.path);
  if (!m) return amaError(404, 'NotFound', `no such ingestion operation: ${req.path} (expected /dataCollectionRules/<dcr>/streams/<stream>)`);
  if (req.method !== 'POST') return amaError(405, 'MethodNotAllowed', 'stream uploads are POST');
  if (!req.query.get('api-version')) return amaError(400, 'MissingApiVersionParameter', 'the api-version query parameter is required');
  if (req.body.length > DCE_MAX_BODY) return amaError(413, 'ContentLengthLimitExceeded', `the body is ${req.body.length} bytes; the limit is 1 MB`);
  const auth = authenticate(req, state);
  if (!auth.ok) return auth.reply;
  const [, dcrId, stream] = m as unknown as string[];
  const ws = String(auth.claims.wid).toLowerCase();
  if (String(auth.claims.cid).toLowerCase() !== dcrId!.toLowerCase() || dcrIdFor(ws) !== dcrId!.toLowerCase()) return amaError(403, 'OperationFailed', `the ingestion token does not grant access to data collection rule ${dcrId}`);
  if (decodeURIComponent(stream!) !== CUSTOM_STREAM) return amaError(400, 'InvalidStream', `data collection rule ${dcrId} declares no stream ${stream} (it declares ${CUSTOM_STREAM})`);
  const decoded = decodeBody(req.body, req.headers['content-encoding'] as string | undefined);
  if (!decoded.ok) return amaError(decoded.status, 'InvalidContent', decoded.reason);
  const parsed = parseDataCollectorBody(decoded.body);
  if (!parsed.ok) return amaError(400, 'InvalidJson', parsed.reason);
  state.ledger.record({ workspaceId: ws, agentId: String(auth.claims.oid), dataType: CUSTOM_STREAM, records: parsed.items.length, bytes: req.body.length, decodedBytes: decoded.body.length, recordIds: recordIdsOf(parsed.items) });
  return { status: 204 };
}
