import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The two signature schemes the service checks. Onboarding (omsadmin.sh + auth_key.rb):
 *   x-ms-SHA256_Content = base64(sha256(body))
 *   Authorization       = "<workspaceId>; " + base64(HMAC-SHA256(base64decode(key), date + "\n" + contentHash + "\n"))
 * HTTP Data Collector API:
 *   Authorization = "SharedKey <workspaceId>:" + base64(HMAC-SHA256(base64decode(key),
 *                   "POST\n<content-length>\napplication/json\nx-ms-date:<date>\n/api/logs"))
 */

export function contentHash(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('base64');
}

export function onboardingSignature(sharedKeyBase64: string, date: string, bodyHash: string): string {
  return createHmac('sha256', Buffer.from(sharedKeyBase64, 'base64')).update(`${date}\n${bodyHash}\n`).digest('base64');
}

export function dataCollectorStringToSign(contentLength: number, contentType: string, date: string, resource = '/api/logs'): string {
  return `POST\n${contentLength}\n${contentType}\nx-ms-date:${date}\n${resource}`;
}

export function dataCollectorSignature(sharedKeyBase64: string, contentLength: number, contentType: string, date: string): string {
  return createHmac('sha256', Buffer.from(sharedKeyBase64, 'base64')).update(dataCollectorStringToSign(contentLength, contentType, date)).digest('base64');
}

/** Constant-time comparison of two base64 strings. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A shared key must be non-empty base64 that decodes to at least 16 bytes. */
export function isValidSharedKey(key: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && key.length % 4 === 0 && Buffer.from(key, 'base64').length >= 16;
}

/** Onboarding `Authorization: <ws>; <sig>`. */
export function parseOnboardingAuthorization(value: string): { workspaceId: string; signature: string } | undefined {
  const m = /^\s*([^;\s]+)\s*;\s*(\S+)\s*$/.exec(value);
  return m ? { workspaceId: m[1], signature: m[2] } : undefined;
}

/** Data Collector `Authorization: SharedKey <ws>:<sig>`. */
export function parseSharedKeyAuthorization(value: string): { workspaceId: string; signature: string } | undefined {
  const m = /^\s*SharedKey\s+([^:\s]+):(\S+)\s*$/.exec(value);
  return m ? { workspaceId: m[1], signature: m[2] } : undefined;
}
