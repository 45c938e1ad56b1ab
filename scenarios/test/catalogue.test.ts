import { existsSync } from 'node:fs';
import { cliPath } from '../../lib/paths.js';
import { listCatalogue } from '../runner/catalogue.js';
import { loadScenarioFile } from '../runner/load.js';
import { realParts } from '../runner/parts.js';
import { renderTimeline } from '../runner/reporters/pretty.js';
import { runScenario } from '../runner/runner.js';

/** At most `size` callers run at once; the others wait their turn. */
function slots(size: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let free = size;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (free === 0) await new Promise<void>((r) => waiting.push(r));
    else free--;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

/**
 * Every catalogue scenario, run for real: the gateway as a child process (dist/ must be built:
 * `npm run build`), the fake cloud and the agents in this process, loopback sockets only.
 * One at a time: each has its own gateway, ports, temp folder and clock, but two at once share this
 * process's event loop and thread pool, which makes each slower than it need be. (Two clean-clone
 * runs once had a scenario's agents stall: its clock ran on while an upload was in flight, so the
 * next flush or queued chunk was planned past the end of a clock.advance. clock.advance now waits
 * for the agents' calls before moving past an instant: see lib/test/clock.test.ts.)
 */
describe('scenario catalogue', () => {
  const entries = listCatalogue();
  const inTurn = slots(1);
  const results = new Map<string, Promise<Awaited<ReturnType<typeof runScenario>>>>();

  beforeAll(() => {
    if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run \`npm run build\` first (the runner starts the gateway from dist/)`);
    // Every scenario starts here, one at a time in catalogue order; each test below only waits for
    // its own result. (With one concurrent test per scenario, a test's timeout also counted the time
    // it queued behind others, so each scenario added to the catalogue pushed later ones over it.)
    for (const e of entries) {
      const run = inTurn(() => runScenario(loadScenarioFile(e.file), { parts: realParts }));
      run.catch(() => undefined); // reported by its own test
      results.set(e.name, run);
    }
  });

  for (const entry of entries) {
    it(entry.name, async () => {
      const result = await results.get(entry.name)!;
      // The timeline is the failure message: it shows which step failed and expected vs actual.
      if (!result.passed) throw new Error(`\n${renderTimeline(result)}`);
      expect(result.steps.every((s) => s.status === 'passed')).toBe(true);
      expect(result.teardown).toEqual([]);
    });
  }
});
