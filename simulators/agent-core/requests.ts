/**
 * The agent's calls to the service, built and judged the way the real agents do: the topology
 * request (onboarding and heartbeat), the Linux agent-service registration, the data upload.
 */
import { randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { ClientCertificate } from './certificate.js';
import { AgentError, type AgentPhase } from './errors.js';
import type { HttpResponse } from './http-client.js';
import type { AgentIdentity } from './identity.js';
import { itemBytes, itemJson, type LedgerRecord } from './ledger.js';
import type { AgentProtocol, Endpoints } from './protocol.js';
import { formatAgentDate, signedTopologyHeaders } from './signing.js';
import { parseReason, parseTopologyResponse } from './topology.js';
import { RECORD_ID_FIELD } from '../../lib/records/index.js';

/** The data item field the fake cloud reads record ids from: one definition, in lib/records. */
export { RECORD_ID_FIELD };

/** What the calls need from their agent. */
export interface CallContext {
  identity: AgentIdentity;
  protocol: AgentProtocol;
  endpoints: Endpoints;
  workspaceId: string;
  workspaceKey: string;
  certificate(): Promise<ClientCertificate>;
  /** Epoch ms for request dates (x-ms-Date). */
  dateNow(): number;
  /** Sends one request through the proxy; a transport failure is thrown as an already-reported AgentError. */
  call(phase: AgentPhase, method: 'POST' | 'PUT', url: string, headers: Record<string, string>, body: string | Buffer): Promise<HttpResponse>;
  /** Records and reports a failure; returns the error to throw. */
  fail(phase: AgentPhase, err: AgentError): AgentError;
}

/** The topology request: shared-key signed when onboarding, certificate-only as a heartbeat. Returns the DSC endpoint (Linux). */
export async function topologyRequest(ctx: CallContext, phase: 'onboard' | 'heartbeat'): Promise<{ dscEndpoint?: string; queryIntervalMs?: number }> {
  const { protocol, identity, endpoints } = ctx;
  const cert = await ctx.certificate();
  const body = protocol.topologyBody(identity, cert);
  const headers =
    phase === 'onboard'
      ? signedTopologyHeaders({ workspaceId: ctx.workspaceId, sharedKey: ctx.workspaceKey, body, epochMs: ctx.dateNow(), userAgent: protocol.userAgent(identity) })
      : { 'x-ms-Date': formatAgentDate(ctx.dateNow()), 'User-Agent': protocol.userAgent(identity), 'Accept-Language': 'en-US' };
  const url = `https://${endpoints.omsHost}${protocol.topologyPath}`;
  const res = await ctx.call(phase, 'POST', url, { ...headers, 'Content-Type': protocol.topologyContentType }, body);
  const text = res.body.toString('utf8');
  const what = phase === 'onboard' ? 'onboarding' : 'sending the heartbeat';
  const target = `${endpoints.omsHost}:443`;
  if (res.statusCode === 403) {
    throw ctx.fail(phase, new AgentError(`Error ${what}. HTTP code 403, Reason: ${parseReason(text) ?? '(none)'}. Check the Workspace ID, Workspace Key and that the time of the system is correct.`, 'http', { target, statusCode: 403, retryAfterMs: res.retryAfterMs }));
  }
  if (res.statusCode !== 200) {
    throw ctx.fail(phase, new AgentError(`Error ${what}. HTTP code ${res.statusCode}`, 'http', { target, statusCode: res.statusCode, retryAfterMs: res.retryAfterMs }));
  }
  const topo = parseTopologyResponse(text);
  if (!protocol.agentServiceCall) return { queryIntervalMs: topo.queryIntervalMs };
  if (!topo.dscEndpoint) throw ctx.fail(phase, new AgentError('Could not extract the DSC endpoint.', 'protocol', { target }));
  return { dscEndpoint: topo.dscEndpoint, queryIntervalMs: topo.queryIntervalMs };
}

/** Linux: the DSC node registration at the automation agent-service host. */
export async function registerAgentService(ctx: CallContext, dscEndpoint: string): Promise<void> {
  const cert = await ctx.certificate();
  const call = ctx.protocol.agentServiceCall!({ identity: ctx.identity, cert, dscEndpoint, workspaceId: ctx.workspaceId, workspaceKey: ctx.workspaceKey, now: ctx.dateNow() });
  const res = await ctx.call('agent-service', call.method, call.url, call.headers, call.body);
  if (res.statusCode < 200 || res.statusCode > 299) {
    const host = new URL(call.url).hostname;
    throw ctx.fail(
      'agent-service',
      new AgentError(`Agent service registration at ${host} failed. HTTP code ${res.statusCode} ${res.statusText}`.trim(), 'http', { target: `${host}:443`, statusCode: res.statusCode, retryAfterMs: res.retryAfterMs }),
    );
  }
}

const ID_FIELD = `${JSON.stringify(RECORD_ID_FIELD)}:`;

/**
 * The PostJsonDataItems body as UTF-8, `{"DataType":..., "IPName":"LogManagement", "DataItems":[...]}`,
 * each item with its record id as the last field: the same bytes as JSON.stringify of
 * `{...item, [RECORD_ID_FIELD]: id}` (simulators/test/upload-body.test.ts). Each record's JSON text
 * (made once, itemJson) is encoded straight into one buffer of the exact size (itemBytes), and its
 * id field written over its closing brace: no 200 KB string is joined and encoded again per post.
 */
export function dataItemsBody(dataType: string, batch: LedgerRecord[]): Buffer {
  const head = `{"DataType":${JSON.stringify(dataType)},"IPName":"LogManagement","DataItems":[`;
  const last = batch.length - 1;
  // What replaces item i's closing brace: `,"omsgwRecordId":"<id>"}` and the comma before the next item (or the end).
  const tails = batch.map((r, i) => `${itemBytes(r) === 2 ? '' : ','}${ID_FIELD}${JSON.stringify(r.id)}}${i < last ? ',' : ']}'}`);
  let size = Buffer.byteLength(head) + (batch.length ? 0 : 2);
  for (let i = 0; i < batch.length; i++) size += itemBytes(batch[i]!) - 1 + Buffer.byteLength(tails[i]!);
  const body = Buffer.allocUnsafe(size);
  let at = body.write(head, 0);
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i]!;
    body.write(itemJson(r), at);
    at += itemBytes(r) - 1;
    at += body.write(tails[i]!, at);
  }
  if (!batch.length) at += body.write(']}', at);
  if (at !== size) throw new Error(`upload body: wrote ${at} bytes of ${size}`);
  return body;
}

/**
 * zlib level of the upload body. A modelling choice (docs/agents.md): out_oms uses Zlib::Deflate.deflate,
 * level 6; level 1 is the same wire format (a zlib stream the cloud inflates alike) at about half the
 * CPU for ~200 KB of JSON, for about a fifth more bytes on the wire (8.3 KB instead of 6.8 KB here).
 */
export const UPLOAD_DEFLATE_LEVEL = 1;

/**
 * One PostJsonDataItems call: one data type, deflated JSON, each item stamped with its record id. Any non-200 is a failure.
 * Deflate is synchronous: on libuv's thread pool it cost more CPU in all (0.63 vs 0.42 ms at level 6)
 * and can queue behind the agents' RSA key generation there (with it, gateway-outage-no-loss's uploads
 * once stalled ~9 s next to other scenarios).
 */
export async function postDataItems(ctx: CallContext, batch: LedgerRecord[]): Promise<void> {
  const dataType = batch[0]!.dataType;
  const body = deflateSync(dataItemsBody(dataType, batch), { level: UPLOAD_DEFLATE_LEVEL });
  const requestId = randomUUID();
  const url = `https://${ctx.endpoints.odsHost}/OperationalData.svc/PostJsonDataItems`;
  const headers = { 'X-Request-ID': requestId, 'Content-Type': 'application/json', 'Content-Encoding': 'deflate', 'User-Agent': ctx.protocol.userAgent(ctx.identity) };
  const res = await ctx.call('upload', 'POST', url, headers, body);
  if (res.statusCode !== 200) {
    const text = res.body.toString('utf8', 0, Math.min(res.body.length, 300)).replace(/\s+/g, ' ');
    throw ctx.fail(
      'upload',
      new AgentError(`HTTP Error: (request-id=${requestId}; code=${res.statusCode}; message=${res.statusText}; body=${text};)`, 'http', { target: `${ctx.endpoints.odsHost}:443`, statusCode: res.statusCode, retryAfterMs: res.retryAfterMs }),
    );
  }
}
