/** Small client for the gateway's management API (see docs/gateway.md). */
export async function adminRequest(adminUrl: string | undefined, method: string, path: string, body?: unknown): Promise<unknown> {
  if (!adminUrl) throw new Error('the gateway is not running (no management API to call)');
  const url = `${adminUrl.replace(/\/$/, '')}${path}`;
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
