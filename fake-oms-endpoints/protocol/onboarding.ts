import { contentHash, onboardingSignature, parseOnboardingAuthorization, sameSignature } from './signatures.js';
import { firstHeader as header, type HeaderMap } from './headers.js';

/** The service rejects requests whose x-ms-Date is further than this from its clock. */
export const MAX_DATE_SKEW_MS = 15 * 60_000;

export type HeaderCheck = { ok: true; date: number } | { ok: false; reason: string };

/**
 * Checks the signed headers of a topology request against the body and the workspace key.
 * Order matters only for which reason is reported first; every check is independent.
 */
export function verifyOnboardingHeaders(opts: {
  headers: HeaderMap;
  body: Buffer;
  hostWorkspaceId: string;
  keyOf: (workspaceId: string) => string | undefined;
  now: number;
}): HeaderCheck {
  const { headers, body } = opts;
  const date = header(headers, 'x-ms-date');
  if (!date) return { ok: false, reason: 'Missing x-ms-Date header' };
  const t = Date.parse(date);
  if (Number.isNaN(t)) return { ok: false, reason: `Invalid x-ms-Date header: ${date}` };
  const skew = t - opts.now;
  if (Math.abs(skew) > MAX_DATE_SKEW_MS) {
    return { ok: false, reason: `Request date ${date} is ${Math.round(Math.abs(skew) / 60_000)} minutes ${skew < 0 ? 'behind' : 'ahead of'} the service clock (${new Date(opts.now).toISOString()}); allowed skew is 15 minutes` };
  }
  const hash = header(headers, 'x-ms-sha256_content');
  if (!hash) return { ok: false, reason: 'Missing x-ms-SHA256_Content header' };
  if (!sameSignature(hash, contentHash(body))) return { ok: false, reason: 'x-ms-SHA256_Content does not match the SHA-256 of the request body' };
  const authRaw = header(headers, 'authorization');
  if (!authRaw) return { ok: false, reason: 'Missing Authorization header' };
  const auth = parseOnboardingAuthorization(authRaw);
  if (!auth) return { ok: false, reason: 'Malformed Authorization header: expected "<workspaceId>; <base64 signature>"' };
  if (auth.workspaceId.toLowerCase() !== opts.hostWorkspaceId.toLowerCase()) {
    return { ok: false, reason: `Authorization names workspace ${auth.workspaceId} but the request was sent to workspace ${opts.hostWorkspaceId}` };
  }
  const key = opts.keyOf(opts.hostWorkspaceId);
  if (!key) return { ok: false, reason: `Unknown workspace ${opts.hostWorkspaceId}` };
  if (!sameSignature(auth.signature, onboardingSignature(key, date, hash))) {
    return { ok: false, reason: 'Invalid Authorization signature: HMAC-SHA256 of x-ms-Date and x-ms-SHA256_Content with the workspace key does not match' };
  }
  return { ok: true, date: t };
}
