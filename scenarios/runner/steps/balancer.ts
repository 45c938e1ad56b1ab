import type { BalancerStartStep, BalancerWaitStep } from '../definitions.js';
import { durationMs, formatMs } from '../duration.js';
import { passed, type StepImpl } from '../step-types.js';

const DEFAULT_CHECK_INTERVAL = '100ms';

export const balancerStart: StepImpl<BalancerStartStep> = {
  needs: ['own-gateway'],
  explain: (s) => `start haproxy (TCP mode, TCP health check) in front of ${s.backends.join(', ')}`,
  async run(step, lab) {
    if (lab.balancer) throw new Error('a balancer is already running (one per scenario)');
    const backends = step.backends.map((name) => {
      const gw = lab.runningGateway(name);
      return { name, host: '127.0.0.1', port: gw.handle.proxyPort };
    });
    const checkIntervalMs = durationMs(step.healthCheck?.interval ?? DEFAULT_CHECK_INTERVAL);
    if (!Number.isInteger(checkIntervalMs) || checkIntervalMs < 1) throw new Error(`healthCheck.interval must be at least 1ms, got ${step.healthCheck?.interval}`);
    lab.balancer = await lab.parts.startBalancer({ backends, checkIntervalMs, fall: step.healthCheck?.fall ?? 2, rise: step.healthCheck?.rise ?? 1 });
    // In TCP mode the gateways see the balancer's address, not the agents': name it in the timeline.
    lab.registerClient(lab.balancer.host, 'balancer');
    // Agents sent to the balancer before it sees its backends up would be refused: wait for them.
    for (const b of backends) await lab.balancer.waitForBackend(b.name, 'UP', 5000);
    return passed(`haproxy pid ${lab.balancer.pid} on ${lab.balancer.host}:${lab.balancer.port} → ${backends.map((b) => `${b.name} :${b.port}`).join(', ')} (all UP; check every ${formatMs(checkIntervalMs)})`);
  },
};

export const balancerWait: StepImpl<BalancerWaitStep> = {
  needs: ['own-gateway'],
  explain: (s) => `wait until the balancer sees ${s.backend} ${s.state}`,
  async run(step, lab) {
    if (!lab.balancer) throw new Error('no balancer is running (balancer.start)');
    const started = Date.now();
    await lab.balancer.waitForBackend(step.backend, step.state, durationMs(step.timeout ?? '5s'));
    const states = await lab.balancer.backendStates();
    return passed(`${step.backend} ${step.state} after ${Date.now() - started} ms; backends: ${Object.entries(states).map(([n, st]) => `${n} ${st}`).join(', ')}`);
  },
};
