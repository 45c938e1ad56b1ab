/**
 * fake-oms-endpoints/faults: toxiproxy-style faults the lab API and scenarios inject into the fake
 * cloud. Each kind is one file exporting a FaultKind ({ matches, apply }); registry.ts lists them.
 */
export { FAULT_KINDS, FAULT_TYPES, faultKind, type FaultType } from './registry.js';
export { FAULT_STATUSES } from './status.js';
export { FaultSet, validateFaultSpec, applyRequestFaults } from './fault-set.js';
export type { Fault, FaultKind, FaultSpec, FaultedRequest } from './kind.js';
