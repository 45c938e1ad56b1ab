import { matchesHostAndPath, type FaultKind } from './kind.js';

/** Adds a delay before the request is handled. */
export const latencyFault: FaultKind = {
  type: 'latency',
  stage: 'request',
  fields: { latencyMs: { type: 'number', minimum: 0, maximum: 600_000 } },
  required: ['latencyMs'],
  matches: matchesHostAndPath,
  async apply(f, request) {
    await request.delay(f.latencyMs ?? 0);
    return 'continue' as const;
  },
};
