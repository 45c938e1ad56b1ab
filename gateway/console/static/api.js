// The management API from the page. The admin token lives only in this module's memory: never in a
// URL, in storage, or in the DOM; it is sent only as Authorization: Bearer on changes.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

let token = '';

export function setToken(value) {
  token = value;
}

export function hasToken() {
  return token !== '';
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token && method !== 'GET') headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = { error: text };
  }
  if (!res.ok) throw new ApiError(res.status, data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`);
  return data;
}

/** A message for the status line: what failed and, for 401, what to do. */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.status === 401) return `Refused (401): ${err.message}. Enter the admin token above.`;
    return `Refused (${err.status}): ${err.message}`;
  }
  return `Failed: ${err && err.message ? err.message : String(err)}`;
}
