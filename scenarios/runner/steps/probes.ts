import type { ProbeConnectStep, ProbeHttpStep, ProbeTlsStep } from '../definitions.js';
import type { Lab } from '../lab.js';
import { probeHttp } from '../probes/http-probe.js';
import { probeConnect } from '../probes/connect-probe.js';
import { probeTls } from '../probes/tls-probe.js';
import { failed, passed, type StepImpl } from '../step-types.js';

function proxyOf(lab: Lab) {
  const addr = lab.proxyAddress();
  if (!addr) throw new Error('no gateway to probe: start it first (gateway.start)');
  return addr;
}

export const probeHttpStep: StepImpl<ProbeHttpStep> = {
  explain: (s) => `send a plain ${s.method ?? 'GET'} ${s.url} to the proxy`,
  async run(step, lab) {
    const probe = lab.newProbe(step.as);
    const r = await probeHttp(proxyOf(lab), probe.bindAddress, step.method ?? 'GET', step.url);
    const summary = `${probe.name}: ${r.statusLine}`;
    if (step.expectStatus !== undefined && r.status !== step.expectStatus) return failed(summary, { expected: [`status ${step.expectStatus}`], actual: [r.statusLine] });
    return passed(summary);
  },
};

export const probeConnectStep: StepImpl<ProbeConnectStep> = {
  explain: (s) => `send CONNECT ${s.target} to the proxy`,
  async run(step, lab) {
    const probe = lab.newProbe(step.as);
    const r = await probeConnect(proxyOf(lab), probe.bindAddress, step.target);
    const summary = `${probe.name}: ${r.statusLine}`;
    if (step.expectStatus !== undefined && r.status !== step.expectStatus) return failed(summary, { expected: [`status ${step.expectStatus}`], actual: [r.statusLine] });
    return passed(summary);
  },
};

export const probeTlsStep: StepImpl<ProbeTlsStep> = {
  explain: (s) => `CONNECT ${s.target} then a ${s.version ?? 'TLSv1.2'} handshake${s.servername ? ` with SNI ${s.servername}` : ''}`,
  async run(step, lab) {
    const probe = lab.newProbe(step.as);
    const r = await probeTls(proxyOf(lab), probe.bindAddress, step.target, { version: step.version ?? 'TLSv1.2', servername: step.servername });
    const summary = `${probe.name}: ${r.detail}`;
    if (step.expect && r.outcome !== step.expect) return failed(summary, { expected: [step.expect], actual: [r.outcome] });
    return passed(summary);
  },
};
