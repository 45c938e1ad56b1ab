import { existsSync } from 'node:fs';
import { cliPath } from '../../lib/paths.js';
import { listCatalogue } from '../runner/catalogue.js';
import { loadScenarioFile } from '../runner/load.js';
import { realParts } from '../runner/parts.js';
import { renderTimeline } from '../runner/reporters/pretty.js';
import { runScenario } from '../runner/runner.js';

/**
 * Every catalogue scenario, run for real: the gateway as a child process (dist/ must be built:
 * `npm run build`), the fake cloud and the agents in this process, loopback sockets only.
 */
describe('scenario catalogue', () => {
  beforeAll(() => {
    if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run \`npm run build\` first (the runner starts the gateway from dist/)`);
  });

  for (const entry of listCatalogue()) {
    it(entry.name, async () => {
      const result = await runScenario(loadScenarioFile(entry.file), { parts: realParts });
      // The timeline is the failure message: it shows which step failed and expected vs actual.
      if (!result.passed) throw new Error(`\n${renderTimeline(result)}`);
      expect(result.steps.every((s) => s.status === 'passed')).toBe(true);
      expect(result.teardown).toEqual([]);
    });
  }
});
