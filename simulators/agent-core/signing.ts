import { createHash, createHmac } from 'node:crypto';
import { InputError } from '../../lib/errors.js';

/**
 * The onboarding date header as omsadmin.sh writes it: `date +%Y-%m-%dT%T.%N%:z`
 * (nanoseconds, numeric offset). The simulator always speaks UTC.
 */
export function formatAgentDate(epochMs: number): string {
  const d = new Date(epochMs);
  const iso = d.toISOString(); // 2016-03-01T09:00:00.123Z
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000+00:00`;
}

/** base64(SHA-256(body)), the `x-ms-SHA256_Content` header (auth_key.rb get_content_hash). */
export function contentHash(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

/** base64(HMAC-SHA256(key = base64decode(sharedKey), date + "\n" + hash + "\n")) (auth_key.rb get_auth_key). */
export function authorizationSignature(date: string, hash: string, sharedKeyBase64: string): string {
  return createHmac('sha256', decodeSharedKey(sharedKeyBase64)).update(`${date}\n${hash}\n`, 'utf8').digest('base64');
}

export function decodeSharedKey(sharedKeyBase64: string): Buffer {
  if (typeof sharedKeyBase64 !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(sharedKeyBase64) || sharedKeyBase64.length % 4 !== 0) {
    throw new InputError('workspace key must be the base64 shared key shown in the workspace settings (e.g. 88 characters ending in "==")');
  }
  return Buffer.from(sharedKeyBase64, 'base64');
}

export const WORKSPACE_ID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** omsadmin.sh refuses anything but a GUID ("The Workspace ID is not valid"). */
export function validateWorkspaceId(id: string): string {
  if (typeof id !== 'string' || !WORKSPACE_ID_RE.test(id)) {
    throw new InputError(`workspace id "${id}" is not valid: it must be a GUID such as 00000000-1111-2222-3333-444444444444`);
  }
  return id;
}

/** Headers of a shared-key-signed topology request (omsadmin.sh onboard()). */
export function signedTopologyHeaders(opts: { workspaceId: string; sharedKey: string; body: string; epochMs: number; userAgent: string }): Record<string, string> {
  const date = formatAgentDate(opts.epochMs);
  const hash = contentHash(opts.body);
  return {
    'x-ms-Date': date,
    'x-ms-version': 'August, 2014',
    'x-ms-SHA256_Content': hash,
    Authorization: `${opts.workspaceId}; ${authorizationSignature(date, hash, opts.sharedKey)}`,
    'User-Agent': opts.userAgent,
    'Accept-Language': 'en-US',
  };
}
