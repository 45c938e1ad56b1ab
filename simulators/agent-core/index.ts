/**
 * Simulated OMS agents (Windows MMA-like and Linux omsagent-like), singly or as a fleet.
 * See docs/agents.md.
 */
import { InputError } from '../../lib/errors.js';
import { createLinuxAgent, linuxProtocol } from '../linux-agent/index.js';
import { createWindowsAgent, windowsProtocol } from '../windows-agent/index.js';
import { SimulatedAgent, type AgentOptions } from './agent.js';
import { Fleet, type FleetOptions } from './fleet.js';

export * from './agent.js';
export * from './backoff.js';
export * from './behavior.js';
export * from './chunk-pump.js';
export * from './certificate.js';
export * from './cidr.js';
export * from './errors.js';
export * from './fleet.js';
export * from './http-client.js';
export * from './identity.js';
export * from './ledger.js';
export * from './protocol.js';
export * from './report.js';
export * from './proxy-string.js';
export * from './signing.js';
export * from './topology.js';
export * from './tunnel.js';
export * from './timers.js';
export * from './upload-pump.js';
export * from './heartbeats.js';
export { createLinuxAgent, linuxProtocol, LINUX_PERF_BLOB, LINUX_SYSLOGS_BLOB, HEALTH_ASSESSMENT_BLOB } from '../linux-agent/index.js';
export { createWindowsAgent, windowsProtocol, GENERIC_EVENT_BLOB, WINDOWS_PERF_BLOB } from '../windows-agent/index.js';

/** One simulated agent of the given OS. Throws InputError on bad options (workspace id, key, proxy, CA, bind address). */
export function createAgent(options: AgentOptions): SimulatedAgent {
  switch (options?.os) {
    case 'linux':
      return new SimulatedAgent(linuxProtocol, options);
    case 'windows':
      return new SimulatedAgent(windowsProtocol, options);
    default:
      throw new InputError(`os must be "linux" or "windows", got ${JSON.stringify(options?.os)}`);
  }
}

/** A fleet of agents (one OS or a mix), agent i bound to the i-th address of bindRange. */
export function createFleet(options: FleetOptions): Fleet {
  return new Fleet(options, createAgent);
}

// Keep the named constructors reachable for callers that prefer them.
export const agentConstructors = { linux: createLinuxAgent, windows: createWindowsAgent };
