import type { ClockAdvanceStep } from '../definitions.js';
import { adminRequest } from '../admin-client.js';
import { durationMs, formatMs } from '../duration.js';
import type { Lab } from '../lab.js';
import { passed, type StepImpl } from '../step-types.js';

/** Real-time bound on waiting for the agents' calls after one clock step (their own timeouts end them sooner). */
const SETTLE_LIMIT_MS = 30_000;

async function agentsSettled(lab: Lab): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_LIMIT_MS)));
  await Promise.race([Promise.all(lab.agents.map((a) => a.handle.settled?.())), limit]);
  clearTimeout(timer);
}

export const clockAdvance: StepImpl<ClockAdvanceStep> = {
  explain: (s) => `advance the lab clock by ${s.by}${s.step ? ` in steps of ${s.step}` : ''}`,
  async run(step, lab) {
    const ms = durationMs(step.by);
    const stepMs = step.step !== undefined ? durationMs(step.step) : ms;
    if (!(stepMs > 0)) throw new Error(`clock.advance step must be longer than 0, got ${step.step}`);
    // Every running gateway on a manual clock moves with the lab clock.
    const manual = [...lab.gateways.values()].filter((g) => g.handle && g.manualClock);
    const moveGateway = step.gateway ?? manual.length > 0;
    const details: string[] = [];
    if (moveGateway) {
      if (lab.external) details.push('the external gateway has its own clock; only the agents\' clock moved');
      else if (manual.length === 0) throw new Error('no running gateway was started with settings.clock: manual, so no gateway clock can be moved');
      else for (const g of manual) await adminRequest(g.handle!.adminUrl, 'POST', '/api/clock/advance', { ms });
    }
    if (step.step === undefined) {
      await lab.clock.advance(ms);
    } else {
      // In steps, letting each step's connection attempts finish before time moves on: an agent's
      // retry is then planned from the clock time of its attempt, as on a real machine.
      for (let done = 0; done < ms; done += stepMs) {
        await lab.clock.advance(Math.min(stepMs, ms - done));
        await agentsSettled(lab);
      }
    }
    return passed(`now ${new Date(lab.clock.now()).toISOString()} (+${formatMs(ms)}${moveGateway && !lab.external ? ', gateway too' : ''})`, details);
  },
};
