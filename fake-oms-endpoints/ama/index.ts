/** Fake Azure Monitor Agent endpoints: control-plane handlers, ingestion, instance metadata. */
export * from './hosts.js';
export * from './tokens.js';
export * from './machine.js';
export * from './settings.js';
export * from './agent-config.js';
export * from './imds.js';
export { AmaState, type AmaMachineSeen } from './state.js';
