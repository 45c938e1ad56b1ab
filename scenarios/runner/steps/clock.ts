import type { ClockAdvanceStep } from '../definitions.js';
import { adminRequest } from '../admin-client.js';
import { durationMs, formatMs } from '../duration.js';
import type { Lab } from '../lab.js';
import { passed, type StepImpl } from '../step-types.js';

/** Real-time bound on one wait for the agents' calls (their own timeouts end them sooner). */
const SETTLE_LIMIT_MS = 30_000;

/** Waits for the agents' calls in flight, at most SETTLE_LIMIT_MS; resolves false when the limit came first. */
async function agentsSettled(lab: Lab): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SETTLE_LIMIT_MS)));
  const settled = Promise.all(lab.agents.map((a) => a.handle.settled?.())).then(() => true);
  const result = await Promise.race([settled, limit]);
  clearTimeout(timer);
  return result;
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
    // Time stands still while the agents' calls are in flight: an agent's retry or next flush is then
    // planned from the clock time of its attempt, as on a real machine, not from wherever the clock had
    // run to when the answer crossed a busy test machine. After one wait runs out (a call that hangs),
    // the rest of this step moves on without waiting, so a hang costs SETTLE_LIMIT_MS once, not per timer.
    let overran = false;
    const idle = async (): Promise<void> => {
      if (!overran && !(await agentsSettled(lab))) overran = true;
    };
    for (let done = 0; done < ms; done += stepMs) {
      await lab.clock.advance(Math.min(stepMs, ms - done), { idle });
      // With steps, each step's last calls finish too before the next step.
      if (step.step !== undefined) await idle();
    }
    if (overran) details.push(`an agent's call was still running after ${formatMs(SETTLE_LIMIT_MS)} of real time; the clock moved on without waiting for the rest of this clock.advance`);
    return passed(`now ${new Date(lab.clock.now()).toISOString()} (+${formatMs(ms)}${moveGateway && !lab.external ? ', gateway too' : ''})`, details);
  },
};
