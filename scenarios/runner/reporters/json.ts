import type { ScenarioResult } from '../runner.js';

/** Machine-readable results: `passed` per scenario and overall, every step and the full event list. */
export function renderJson(results: ScenarioResult[]): string {
  return `${JSON.stringify({ passed: results.every((r) => r.passed), scenarios: results }, null, 2)}\n`;
}
