import { randomUUID } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { AgentError } from '../agent-core/errors.js';
import type { Channel } from './configuration.js';
import { httpFailure } from './control-plane.js';
import type { InstanceCompute } from './imds-client.js';
import type { AmaTransport } from './transport.js';

/** The fixed cloud id the agent sends on ODS uploads from Azure VMs (seen in captured requests). */
export const OMS_CLOUD_ID = '7783-7084-3265-9085-8269-3286-77';
export const ODS_PATH = '/OperationalData.svc/PostJsonDataItems?api-version=2016-04-01';

export interface UploadContext {
  http: AmaTransport;
  compute: InstanceCompute;
  resourceId: string;
  userAgent: string;
}

/**
 * One batch of one stream to its channel. ODS: the legacy agents' PostJsonDataItems envelope,
 * zlib-deflated, with the ingestion token as bearer. DCE ("gig"): the Logs Ingestion API, a JSON
 * array (gzip), to the stream's URL.
 */
export async function uploadBatch(ctx: UploadContext, channel: Channel, stream: string, items: Record<string, unknown>[], ingestionToken: string): Promise<void> {
  const common = { authorization: `Bearer ${ingestionToken}`, 'user-agent': ctx.userAgent, 'content-type': 'application/json' };
  let url: string;
  let headers: Record<string, string>;
  let body: Buffer;
  if (channel.protocol === 'ods') {
    url = `${channel.endpoint!.replace(/\/$/, '')}${ODS_PATH}`;
    const envelope = { DataType: stream, IPName: 'LogManagement', ManagementGroupId: '00000000-0000-0000-0000-000000000002', sourceHealthServiceId: ctx.compute.vmId, type: 'JsonData', DataItems: items };
    body = deflateSync(Buffer.from(JSON.stringify(envelope)));
    headers = {
      ...common,
      'content-encoding': 'deflate',
      'x-ms-azureregion': ctx.compute.location,
      'x-ms-azureresourceid': ctx.resourceId,
      'x-ms-omscloudid': OMS_CLOUD_ID,
      'x-ms-uuid': ctx.compute.vmId,
      'x-request-id': randomUUID(),
    };
  } else {
    url = channel.endpointUriTemplate!.replace('<STREAM>', encodeURIComponent(stream));
    body = gzipSync(Buffer.from(JSON.stringify(items)));
    headers = { ...common, 'content-encoding': 'gzip', 'x-ms-client-request-id': randomUUID() };
  }
  const res = await ctx.http.request('POST', url, headers, body).catch((err: AgentError) => {
    throw err.withPhase('upload');
  });
  if (res.statusCode !== 200 && res.statusCode !== 204) throw httpFailure('upload', `Upload of ${items.length} ${stream} record(s) refused`, url, res);
}
