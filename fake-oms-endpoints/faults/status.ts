import { matchesHostAndPath, type FaultKind } from './kind.js';

export const FAULT_STATUSES = [429, 500, 502, 503, 504] as const;

/** Answers an HTTP error status (with Retry-After for 429/503 by default) after reading the body. */
export const statusFault: FaultKind = {
  type: 'status',
  stage: 'request',
  afterBody: true,
  fields: { status: { enum: [...FAULT_STATUSES] }, retryAfterSeconds: { type: 'integer', minimum: 0 } },
  required: ['status'],
  defaults: (spec) => ({ retryAfterSeconds: spec.retryAfterSeconds ?? (spec.status === 429 || spec.status === 503 ? 30 : undefined) }),
  matches: matchesHostAndPath,
  apply(f, request) {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (f.retryAfterSeconds !== undefined) headers['retry-after'] = String(f.retryAfterSeconds);
    request.respond(f.status!, headers, JSON.stringify({ Error: 'InjectedFault', Message: `fault ${f.id}: status ${f.status}` }));
    return 'handled';
  },
};
