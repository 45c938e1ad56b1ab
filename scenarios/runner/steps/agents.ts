import type { AgentsRunOnceStep, AgentsStartStep, AgentsStopStep, AgentsWaitStep } from '../definitions.js';
import { closeAgent, type Lab, type LabAgent } from '../lab.js';
import { durationMs } from '../duration.js';
import { failed, passed, pollUntil, type StepImpl } from '../step-types.js';

/** The n-th host address (1-based) in a loopback range like 127.0.1.0/24. */
export function addressInRange(range: string, n: number): string {
  const [base, bitsText] = range.split('/');
  const size = 2 ** (32 - Number(bitsText));
  if (n >= size - 1) throw new Error(`bind range ${range} has room for ${size - 2} agents, not ${n}`);
  const octets = base.split('.').map(Number);
  const value = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3] + n;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function proxyString(lab: Lab, via: string | undefined, auth?: { username: string; password: string }): string {
  const addr = lab.proxyAddress(via);
  if (!addr) throw new Error('start the gateway (gateway.start) before the agents: they need its address');
  const creds = auth ? `${encodeURIComponent(auth.username)}:${encodeURIComponent(auth.password)}@` : '';
  return `http://${creds}${addr.host}:${addr.port}`;
}

/** Runs one onboarding + upload cycle in the background; the agent records its own errors. */
function kick(agent: LabAgent): void {
  const run = agent.handle.runOnce().catch(() => undefined);
  agent.running = agent.running ? Promise.all([agent.running, run]) : run;
}

/**
 * Closes an agent once its run-once cycles have settled: closing an agent in the middle of
 * runOnce()'s flush makes that flush loop forever (simulators/agent-core flush() does not stop
 * when the agent closes), which would freeze the whole runner. The cycles end by themselves
 * (success, or the agent's own connect/request timeouts).
 */
export const agentsStart: StepImpl<AgentsStartStep> = {
  explain: (s) => `start ${s.count ?? 1} ${s.os} agent(s)${s.behavior ? ` (behavior ${s.behavior})` : ''}${s.via ? ` via ${s.via}` : ''}${s.proxyAuth ? ' with proxy credentials' : ''}${s.tls ? ` (TLS ${JSON.stringify(s.tls)})` : ''}`,
  async run(step, lab) {
    if (!lab.cloud) throw new Error('start the cloud first (cloud.start): agents need its CA certificate');
    const group = step.group ?? step.os;
    if (lab.agents.some((a) => a.group === group)) throw new Error(`agent group "${group}" already exists; give this step a different group name`);
    const range = step.bindRange ?? lab.allocateSubnet();
    const proxy = proxyString(lab, step.via, step.proxyAuth);
    const ws = lab.workspace(step.workspace);
    const started: LabAgent[] = [];
    for (let i = 1; i <= (step.count ?? 1); i++) {
      const bindAddress = addressInRange(range, i);
      lab.registerClient(bindAddress, `${group}-${i}`);
      const handle = lab.parts.createAgent({
        os: step.os,
        workspace: ws,
        proxy,
        caPem: lab.cloud.caCertPem,
        seed: (step.seed ?? 1) * 1000 + i,
        bindAddress,
        clock: lab.clock,
        tls: step.tls,
        behavior: step.behavior,
        retry: step.retry,
        index: lab.agents.length,
      });
      const agent: LabAgent = { name: `${group}-${i}`, group, os: step.os, bindAddress, workspaceId: ws.id, handle };
      lab.agents.push(agent);
      started.push(agent);
    }
    for (const a of started) {
      kick(a);
      if ((step.run ?? 'scheduled') === 'scheduled') a.handle.start();
    }
    return passed(`${started.map((a) => `${a.name} (${a.bindAddress})`).join(', ')} via ${step.via === 'balancer' ? 'the balancer ' : ''}${proxy.replace(/\/\/[^@]*@/, '//***@')}`);
  },
};

export const agentsRunOnce: StepImpl<AgentsRunOnceStep> = {
  explain: (s) => `run one onboarding + upload cycle on ${s.agents ?? 'all agents'}`,
  async run(step, lab) {
    const agents = lab.select(step.agents);
    agents.forEach(kick);
    return passed(agents.map((a) => a.name).join(', '));
  },
};

export const agentsStop: StepImpl<AgentsStopStep> = {
  explain: (s) => `stop ${s.agents ?? 'all agents'}`,
  async run(step, lab) {
    const agents = lab.select(step.agents);
    await Promise.all(agents.map(closeAgent));
    return passed(`${agents.map((a) => a.name).join(', ')} stopped`);
  },
};

function describeWait(s: AgentsWaitStep): string {
  const parts: string[] = [];
  if (s.onboarded !== undefined) parts.push(s.onboarded ? 'onboarded' : 'not onboarded');
  if (s.delivered) parts.push(`delivered >= ${s.delivered} records`);
  if (s.drained) parts.push('nothing queued');
  if (s.attempted) parts.push(`CONNECT to ${s.attempted} seen by the gateway`);
  return parts.join(', ');
}

export const agentsWait: StepImpl<AgentsWaitStep> = {
  explain: (s) => `wait until ${s.agents ?? 'all agents'}: ${describeWait(s)}`,
  async run(step, lab) {
    const agents = lab.select(step.agents);
    const timeoutMs = durationMs(step.timeout ?? '10s');
    const host = step.attempted?.toLowerCase();
    const pending = (): string[] => {
      const out: string[] = [];
      for (const a of agents) {
        const st = a.handle.status();
        if (step.onboarded !== undefined && st.onboarded !== step.onboarded) out.push(`${a.name} onboarded=${st.onboarded}`);
        if (step.delivered && st.delivered < step.delivered) out.push(`${a.name} delivered ${st.delivered}`);
        if (step.drained && st.queued > 0) out.push(`${a.name} queued ${st.queued}`);
        if (host && !lab.events.all.some((e) => e.id === 103 && e.client === a.name && (e.target ?? '').toLowerCase().replace(/:\d+$/, '') === host)) {
          out.push(`${a.name} no CONNECT to ${host} yet`);
        }
      }
      return out;
    };
    const result = await pollUntil(timeoutMs, async () => {
      if (host) await lab.events.poll().catch(() => undefined);
      const left = pending();
      return { done: left.length === 0, left };
    });
    if (!result.done) {
      return failed(`still waiting after ${step.timeout ?? '10s'}: ${result.left.join('; ')}`, {
        details: agents.map((a) => `${a.name}: ${JSON.stringify(a.handle.status())}`),
      });
    }
    return passed(agents.map((a) => { const st = a.handle.status(); return `${a.name}: onboarded ${st.onboarded}, delivered ${st.delivered}, queued ${st.queued}`; }).join('; '));
  },
};
