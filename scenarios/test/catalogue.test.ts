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
 * Two at a time: each has its own gateway, ports, temp folder and clock, and most of a scenario's
 * time is spent waiting on sockets and child processes.
 */
describe('scenario catalogue', () => {
  const inTurn = slots(2);

  beforeAll(() => {
    if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run \`npm run build\` first (the runner starts the gateway from dist/)`);
  });

  for (const entry of listCatalogue()) {
    it.concurrent(entry.name, () =>
      inTurn(async () => {
        const result = await runScenario(loadScenarioFile(entry.file), { parts: realParts });
        // The timeline is the failure message: it shows which step failed and expected vs actual.
        if (!result.passed) throw new Error(`\n${renderTimeline(result)}`);
        expect(result.steps.every((s) => s.status === 'passed')).toBe(true);
        expect(result.teardown).toEqual([]);
      }),
    );
  }
});
