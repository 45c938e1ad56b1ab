import { matchesHostAndPath, type FaultKind } from './kind.js';

/** Reads the request and never answers (the agent's timeout is what is tested). */
export const hangFault: FaultKind = {
  type: 'hang',
  stage: 'request',
  fields: {},
  matches: matchesHostAndPath,
  apply(_f, request) {
    request.hang();
    return 'handled';
  },
};
