import type { ClockAdvanceStep } from '../definitions.js';
import { adminRequest } from '../admin-client.js';
import { durationMs, formatMs } from '../duration.js';
import { passed, type StepImpl } from '../step-types.js';

export const clockAdvance: StepImpl<ClockAdvanceStep> = {
  explain: (s) => `advance the lab clock by ${s.by}`,
  async run(step, lab) {
    const ms = durationMs(step.by);
    // Every running gateway on a manual clock moves with the lab clock.
    const manual = [...lab.gateways.values()].filter((g) => g.handle && g.manualClock);
    const moveGateway = step.gateway ?? manual.length > 0;
    const details: string[] = [];
    if (moveGateway) {
      if (lab.external) details.push('the external gateway has its own clock; only the agents\' clock moved');
      else if (manual.length === 0) throw new Error('no running gateway was started with settings.clock: manual, so no gateway clock can be moved');
      else for (const g of manual) await adminRequest(g.handle!.adminUrl, 'POST', '/api/clock/advance', { ms });
    }
    await lab.clock.advance(ms);
    return passed(`now ${new Date(lab.clock.now()).toISOString()} (+${formatMs(ms)}${moveGateway && !lab.external ? ', gateway too' : ''})`, details);
  },
};
