import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Lab stand-ins for Microsoft Entra ID managed-identity tokens and the handler's ingestion tokens:
 * JWTs (header.payload.signature, base64url) signed HS256 with a key derived from the lab CA
 * certificate. The real ones are RS256 from Entra ID / "AMCS"; anything holding the lab CA can mint
 * these, which is fine for a lab and keeps the agent's inputs to the CA it already has.
 */
export const MONITOR_AUDIENCE = 'https://monitor.azure.com/';
/** The ingestion token's audience and issuer as seen in a decoded real token. */
export const INGESTION_AUDIENCE = 'Pipeline';
export const INGESTION_ISSUER = 'AMCS';

export type Claims = Record<string, unknown> & { aud?: string; exp?: number; nbf?: number; iat?: number };

export function labTokenKey(caPem: string): Buffer {
  return createHash('sha256').update('omsgw lab token key\n').update(caPem.replace(/\r\n/g, '\n').trim()).digest();
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function mintToken(claims: Claims, key: Buffer): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** Payload of a JWT without checking anything (what jwt.io shows); undefined when not a JWT. */
export function decodeClaims(token: string): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return c && typeof c === 'object' && !Array.isArray(c) ? (c as Claims) : undefined;
  } catch {
    return undefined;
  }
}

export type TokenCheck = { ok: true; claims: Claims } | { ok: false; code: 'InvalidToken' | 'TokenExpired' | 'InvalidAudience'; message: string };

/** Audiences compare without a trailing slash: Entra ID issues both forms for the same resource. */
function sameAudience(a: unknown, b: string): boolean {
  return typeof a === 'string' && a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

/** Signature, expiry (epoch seconds against `nowMs`) and audience, in that order. */
export function verifyToken(token: string | undefined, key: Buffer, audience: string, nowMs: number): TokenCheck {
  if (!token) return { ok: false, code: 'InvalidToken', message: 'no bearer token was presented (Authorization: Bearer <token>)' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, code: 'InvalidToken', message: 'the bearer token is not a JWT' };
  const want = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2]!, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, code: 'InvalidToken', message: 'the bearer token signature is not valid' };
  const claims = decodeClaims(token);
  if (!claims) return { ok: false, code: 'InvalidToken', message: 'the bearer token payload is not JSON' };
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    return { ok: false, code: 'TokenExpired', message: `the bearer token expired at ${typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : '(no exp claim)'}` };
  }
  if (typeof claims.nbf === 'number' && claims.nbf > now + 300) return { ok: false, code: 'InvalidToken', message: `the bearer token is not valid before ${new Date(claims.nbf * 1000).toISOString()}` };
  if (!sameAudience(claims.aud, audience)) return { ok: false, code: 'InvalidAudience', message: `the bearer token audience is ${JSON.stringify(claims.aud)}, expected ${audience}` };
  return { ok: true, claims };
}

export function parseBearer(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  const m = v ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
  return m?.[1];
}
