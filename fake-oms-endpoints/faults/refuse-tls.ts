import { globMatch } from '../hosts.js';
import type { FaultKind } from './kind.js';

/** Refuses the TLS handshake for matching SNI names (direct TLS only; a handshake has no path). */
export const refuseTlsFault: FaultKind = {
  type: 'refuse-tls',
  stage: 'handshake',
  fields: {},
  matches: (f, at) => globMatch(f.host, at.host),
  // The front refuses the handshake itself when the fault matches; nothing to do to a request.
  apply: () => 'continue',
};
