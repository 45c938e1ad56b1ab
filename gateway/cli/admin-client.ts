import { InputError } from '../../lib/errors.js';

export interface AdminTarget {
  url: string;
  token?: string;
}

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8081';

export function adminTarget(flags: { admin?: string; token?: string }): AdminTarget {
  const url = (flags.admin ?? process.env.OMSGW_ADMIN_URL ?? DEFAULT_ADMIN_URL).replace(/\/+$/, '');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error('not http');
  } catch {
    throw new InputError(`--admin must be the management API URL, e.g. ${DEFAULT_ADMIN_URL}, got ${JSON.stringify(url)}`);
  }
  return { url, token: flags.token ?? process.env.OMSGW_ADMIN_TOKEN };
}

/** Calls the management API; a refusal or an unreachable gateway becomes an InputError with its message. */
export async function adminRequest<T = Record<string, unknown>>(t: AdminTarget, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  let res: Response;
  try {
    res = await fetch(t.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new InputError(`cannot reach the gateway management API at ${t.url} (${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); is the gateway running? (--admin URL)`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: text };
  }
  if (!res.ok) throw new InputError(`${method} ${path}: ${res.status} ${(json as { error?: string }).error ?? res.statusText}`);
  return json as T;
}
