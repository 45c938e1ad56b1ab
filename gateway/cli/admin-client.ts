import { InputError } from '../../lib/errors.js';

export interface AdminTarget {
  url: string;
  token?: string;
  /** Every call gives up after this long (InputError: exit 2). */
  timeoutMs: number;
}

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8081';
export const DEFAULT_TIMEOUT_MS = 10_000;

/** `--timeout <seconds>`: a positive number of seconds (decimals allowed), default 10. */
export function parseTimeoutFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  const s = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value.trim()) || !(s > 0) || s > 86_400) throw new InputError(`--timeout must be a number of seconds above 0 (e.g. 10 or 0.5), got ${JSON.stringify(value)}`);
  return Math.round(s * 1000);
}

export function adminTarget(flags: { admin?: string; token?: string; timeout?: string }): AdminTarget {
  const url = (flags.admin ?? process.env.OMSGW_ADMIN_URL ?? DEFAULT_ADMIN_URL).replace(/\/+$/, '');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error('not http');
  } catch {
    throw new InputError(`--admin must be the management API URL, e.g. ${DEFAULT_ADMIN_URL}, got ${JSON.stringify(url)}`);
  }
  return { url, token: flags.token ?? process.env.OMSGW_ADMIN_TOKEN, timeoutMs: parseTimeoutFlag(flags.timeout) };
}

export function timeoutMessage(t: AdminTarget, what: string): string {
  return `no answer from the gateway management API at ${t.url} within ${t.timeoutMs / 1000} s (${what}); is it the right address? (--admin URL, --timeout seconds)`;
}

function unreachable(t: AdminTarget, err: unknown, what: string): InputError {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new InputError(timeoutMessage(t, what));
  return new InputError(`cannot reach the gateway management API at ${t.url} (${e.cause?.code ?? e.message}); is the gateway running? (--admin URL)`);
}

/** Opens a streaming management API call; its response headers must arrive within the target's timeout. */
export async function adminFetch(t: AdminTarget, method: string, path: string, init: { body?: unknown; accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.accept) headers.accept = init.accept;
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), t.timeoutMs);
  try {
    const res = await fetch(t.url + path, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: controller.signal });
    // Only the answer's start is timed: a stream (events --follow) then stays open as long as it runs.
    clearTimeout(timer);
    return res;
  } catch (err) {
    clearTimeout(timer);
    throw unreachable(t, controller.signal.aborted ? controller.signal.reason : err, `${method} ${path}`);
  }
}

/** Calls the management API; a refusal, an unreachable gateway or no answer in time becomes an InputError. */
export async function adminRequest<T = Record<string, unknown>>(t: AdminTarget, method: string, path: string, body?: unknown): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), t.timeoutMs);
  let text: string;
  let res: Response;
  try {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (t.token) headers.authorization = `Bearer ${t.token}`;
    res = await fetch(t.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal });
    text = await res.text();
  } catch (err) {
    throw unreachable(t, controller.signal.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : err, `${method} ${path}`);
  } finally {
    clearTimeout(timer);
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: text };
  }
  if (!res.ok) throw new InputError(`${method} ${path}: ${res.status} ${(json as { error?: string }).error ?? res.statusText}`);
  return json as T;
}
