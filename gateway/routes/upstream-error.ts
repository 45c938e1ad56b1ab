import type { RefusalKind } from '../statuses.js';

/** Why an upstream connection could not be made, already classified into a refusal. */
export class UpstreamError extends Error {
  constructor(readonly kind: Extract<RefusalKind, 'upstream-dns' | 'upstream-refused' | 'upstream-timeout' | 'relay-refused' | 'private-upstream'>, message: string) {
    super(message);
  }
}

export function classifySocketError(err: NodeJS.ErrnoException, what: string): UpstreamError {
  const code = err.code ?? 'ERROR';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return new UpstreamError('upstream-dns', `cannot resolve ${what} (${code})`);
  if (code === 'ETIMEDOUT') return new UpstreamError('upstream-timeout', `connecting to ${what} timed out`);
  return new UpstreamError('upstream-refused', `cannot connect to ${what}: ${code}`);
}
