import { matchesHostAndPath, type FaultKind } from './kind.js';

/** Resets the TCP connection (RST) instead of answering. */
export const resetFault: FaultKind = {
  type: 'reset',
  stage: 'request',
  fields: {},
  matches: matchesHostAndPath,
  apply(_f, request) {
    request.reset();
    return 'handled';
  },
};
