/** Fake Azure Log Analytics cloud: see docs/fake-cloud.md. */
export { createFakeCloud, type FakeCloud, type FakeCloudOptions, type Workspace } from './cloud.js';
export type { RegisteredAgent } from './registry.js';
export type { LedgerEntry, LedgerTotals } from './ledger.js';
export { validateFaultSpec, FAULT_TYPES, type Fault, type FaultSpec, type FaultType } from './faults/index.js';
export {
  AGENT_SERVICE_HOST,
  ADVISOR_HOST,
  CLOUD_HOST_PATTERNS,
  OMS_TLD,
  classifyHost,
  dataCollectorUrl,
  dscEndpoint,
  odsHost,
  odsUrl,
  omsHost,
  onboardingUrl,
  workspaceHostnames,
} from './hosts.js';
export { RECORD_ID_FIELD } from './protocol/ods.js';
export { TOPOLOGY_NS } from './protocol/topology.js';
export { MAX_DATE_SKEW_MS } from './protocol/onboarding.js';
export { DATA_COLLECTOR_AGENT } from './handlers.js';
export * as ama from './ama/index.js';
