import type { StepDef } from './definitions.js';
import type { StepImpl, StepLookup } from './step-types.js';
import { gatewayKill, gatewayReload, gatewayRestart, gatewayStart, gatewayStop } from './steps/gateway.js';
import { allowlistApiAdd, allowlistApiRemove, allowlistEditFile } from './steps/allowlist.js';
import { cloudFaultClear, cloudFaultSet, cloudStart } from './steps/cloud.js';
import { agentsRunOnce, agentsStart, agentsStop, agentsWait } from './steps/agents.js';
import { clockAdvance } from './steps/clock.js';
import { balancerStart, balancerWait } from './steps/balancer.js';
import { probeConnectStep, probeHttpStep, probeTlsStep } from './steps/probes.js';
import { expectEvents } from './expectations/events.js';
import { expectCounters } from './expectations/counters.js';
import { expectLedger } from './expectations/ledger.js';
import { expectAgents } from './expectations/agents.js';

/** Step name → implementation (the definitions themselves are plain data, see definitions.ts). */
export const STEPS: StepLookup = {
  'gateway.start': gatewayStart,
  'gateway.stop': gatewayStop,
  'gateway.restart': gatewayRestart,
  'gateway.kill': gatewayKill,
  'gateway.reload': gatewayReload,
  'allowlist.edit-file': allowlistEditFile,
  'allowlist.api-add': allowlistApiAdd,
  'allowlist.api-remove': allowlistApiRemove,
  'cloud.start': cloudStart,
  'cloud.fault-set': cloudFaultSet,
  'cloud.fault-clear': cloudFaultClear,
  'balancer.start': balancerStart,
  'balancer.wait': balancerWait,
  'agents.start': agentsStart,
  'agents.run-once': agentsRunOnce,
  'agents.stop': agentsStop,
  'agents.wait': agentsWait,
  'clock.advance': clockAdvance,
  'probe.http': probeHttpStep,
  'probe.connect': probeConnectStep,
  'probe.tls': probeTlsStep,
  'expect.events': expectEvents,
  'expect.counters': expectCounters,
  'expect.ledger': expectLedger,
  'expect.agents': expectAgents,
};

export function implOf(step: StepDef): StepImpl {
  return STEPS[step.do] as unknown as StepImpl;
}

export function explainStep(step: StepDef): string {
  return step.title ?? implOf(step).explain(step);
}
