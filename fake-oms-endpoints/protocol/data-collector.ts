import { dataCollectorSignature, parseSharedKeyAuthorization, sameSignature } from './signatures.js';
import { MAX_DATE_SKEW_MS } from './onboarding.js';
import { firstHeader as header, type HeaderMap } from './headers.js';
import { isValidLogType } from './ods.js';

export type DataCollectorCheck = { ok: true; logType: string } | { ok: false; status: number; error: string; reason: string };

/** HTTP Data Collector API request checks, with the service's error names (InvalidAuthorization, ...). */
export function verifyDataCollectorRequest(opts: {
  headers: HeaderMap;
  bodyLength: number;
  hostWorkspaceId: string;
  keyOf: (workspaceId: string) => string | undefined;
  now: number;
}): DataCollectorCheck {
  const h = opts.headers;
  const contentType = (header(h, 'content-type') ?? '').split(';')[0].trim();
  if (contentType !== 'application/json') return { ok: false, status: 415, error: 'UnsupportedContentType', reason: `Content-Type must be application/json, got ${contentType || 'none'}` };
  const logType = header(h, 'log-type');
  if (!logType) return { ok: false, status: 400, error: 'MissingLogType', reason: 'Missing Log-Type header' };
  if (!isValidLogType(logType)) return { ok: false, status: 400, error: 'InvalidLogType', reason: `Log-Type may contain only letters, digits and underscore (max 100): ${logType}` };
  const date = header(h, 'x-ms-date');
  if (!date) return { ok: false, status: 403, error: 'InvalidAuthorization', reason: 'Missing x-ms-date header' };
  const t = Date.parse(date);
  if (Number.isNaN(t)) return { ok: false, status: 403, error: 'InvalidAuthorization', reason: `Invalid x-ms-date header: ${date}` };
  if (Math.abs(t - opts.now) > MAX_DATE_SKEW_MS) return { ok: false, status: 403, error: 'InvalidAuthorization', reason: `x-ms-date ${date} is more than 15 minutes from the service clock` };
  const authRaw = header(h, 'authorization');
  const auth = authRaw ? parseSharedKeyAuthorization(authRaw) : undefined;
  if (!auth) return { ok: false, status: 403, error: 'InvalidAuthorization', reason: 'Authorization must be "SharedKey <workspaceId>:<base64 signature>"' };
  if (auth.workspaceId.toLowerCase() !== opts.hostWorkspaceId.toLowerCase()) {
    return { ok: false, status: 403, error: 'InvalidAuthorization', reason: `Authorization names workspace ${auth.workspaceId} but the request was sent to ${opts.hostWorkspaceId}` };
  }
  const key = opts.keyOf(opts.hostWorkspaceId);
  if (!key) return { ok: false, status: 403, error: 'InvalidAuthorization', reason: `Unknown workspace ${opts.hostWorkspaceId}` };
  const expected = dataCollectorSignature(key, opts.bodyLength, header(h, 'content-type') as string, date);
  if (!sameSignature(auth.signature, expected)) {
    return { ok: false, status: 403, error: 'InvalidAuthorization', reason: 'An invalid scheme or signature was passed in the Authorization header' };
  }
  return { ok: true, logType };
}
