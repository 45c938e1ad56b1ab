/** Simulated Azure Monitor Agent (docs/agents.md, "Azure Monitor Agent"). */
export { AmaAgent, AMA_VERSION } from './agent.js';
export { validateAmaOptions, type AmaAgentOptions } from './options.js';
export { resolveAmaProxy, type AmaProxySettings } from './proxy-settings.js';
export { parseAgentConfiguration, channelForStream, type AgentConfiguration, type Channel } from './configuration.js';
export { ControlPlane, GLOBAL_HANDLER, MAX_HANDLER_HOPS } from './control-plane.js';
export { amaMachineFor } from './machine.js';
export type { AmaStatus, AmaFailure, AmaCondition, AmaState } from './status.js';
import { AmaAgent } from './agent.js';
import type { AmaAgentOptions } from './options.js';

/** One simulated AMA agent; throws InputError on bad options (proxy settings, workspace, CA, region...). */
export function createAmaAgent(options: AmaAgentOptions): AmaAgent {
  return new AmaAgent(options);
}
