import type { ClockAdvanceStep } from '../definitions.js';
import { adminRequest } from '../admin-client.js';
import { durationMs, formatMs } from '../duration.js';
import { passed, type StepImpl } from '../step-types.js';

export const clockAdvance: StepImpl<ClockAdvanceStep> = {
  explain: (s) => `advance the lab clock by ${s.by}`,
  async run(step, lab) {
    const ms = durationMs(step.by);
    const moveGateway = step.gateway ?? lab.gateway?.manualClock ?? false;
    const details: string[] = [];
    if (moveGateway) {
      if (lab.external) details.push('the external gateway has its own clock; only the agents\' clock moved');
      else if (!lab.gateway?.manualClock) throw new Error('the gateway was not started with settings.clock: manual, so its clock cannot be moved');
      else await adminRequest(lab.adminUrl, 'POST', '/api/clock/advance', { ms });
    }
    await lab.clock.advance(ms);
    return passed(`now ${new Date(lab.clock.now()).toISOString()} (+${formatMs(ms)}${moveGateway && !lab.external ? ', gateway too' : ''})`, details);
  },
};
