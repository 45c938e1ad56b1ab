import type { Fleet } from '../simulators/agent-core/index.js';

/**
 * A scheduled fleet on a ManualClock starts real network I/O when the clock fires its timers.
 * This waits (in real time) until that I/O is over: no record in flight and nobody mid-onboarding,
 * three polls in a row.
 */
export async function settle(fleet: Fleet, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    const busy = fleet.agents.some((a) => a.ledger.summary().inFlight > 0 || a.status().state === 'onboarding' || a.status().state === 'registering');
    quiet = busy ? 0 : quiet + 1;
    if (quiet >= 3) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`agents still busy after ${timeoutMs} ms: ${JSON.stringify(fleet.status().total)}`);
}
