import { join } from 'node:path';
import type { CloudFaultClearStep, CloudFaultSetStep, CloudStartStep } from '../definitions.js';
import type { Lab } from '../lab.js';
import { passed, type StepImpl } from '../step-types.js';

export const cloudStart: StepImpl<CloudStartStep> = {
  explain: (s) => `start the fake Azure cloud${s.faults?.length ? ` with ${s.faults.length} fault(s)` : ''}`,
  async run(step, lab) {
    if (lab.cloud) throw new Error('the cloud is already running');
    lab.cloud = await lab.parts.startCloud({ stateDir: join(lab.workDir, 'cloud'), workspaces: lab.workspaces, clock: lab.clock, port: lab.external?.cloudPort });
    const ids = (step.faults ?? []).map((f) => lab.cloud!.setFault(f));
    return passed(`workspaces ${lab.workspaces.map((w) => w.id.slice(0, 8)).join(', ')}; reachable at ${lab.cloud.proxyUrl}`, ids.length ? [`faults: ${ids.join(', ')}`] : undefined);
  },
};

export const cloudFaultSet: StepImpl<CloudFaultSetStep> = {
  explain: (s) => `set a cloud fault ${JSON.stringify(s.fault)}`,
  async run(step, lab) {
    if (!lab.cloud) throw new Error('start the cloud first (cloud.start)');
    return passed(`fault ${lab.cloud.setFault(step.fault)} active`);
  },
};

export const cloudFaultClear: StepImpl<CloudFaultClearStep> = {
  explain: (s) => (s.id ? `clear cloud fault ${s.id}` : 'clear all cloud faults'),
  async run(step, lab) {
    if (!lab.cloud) throw new Error('start the cloud first (cloud.start)');
    lab.cloud.clearFaults(step.id);
    return passed(step.id ? `fault ${step.id} cleared` : 'all faults cleared');
  },
};
