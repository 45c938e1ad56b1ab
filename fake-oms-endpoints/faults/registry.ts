import { hangFault } from './hang.js';
import type { FaultKind } from './kind.js';
import { latencyFault } from './latency.js';
import { refuseTlsFault } from './refuse-tls.js';
import { resetFault } from './reset.js';
import { statusFault } from './status.js';

/** The registry, in the order request faults act (reset, hang, latency, then status after the body). A new kind: one file, one line here. */
export const FAULT_KINDS: readonly FaultKind[] = [resetFault, hangFault, latencyFault, statusFault, refuseTlsFault];
export const FAULT_TYPES: readonly string[] = FAULT_KINDS.map((k) => k.type);
export type FaultType = 'latency' | 'status' | 'reset' | 'hang' | 'refuse-tls';

export function faultKind(type: string): FaultKind | undefined {
  return FAULT_KINDS.find((k) => k.type === type);
}
