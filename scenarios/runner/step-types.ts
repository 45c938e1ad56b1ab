import type { StepDef, StepName } from './definitions.js';
import type { Lab } from './lab.js';

/** not-verified: an expectation that could not be checked here (e.g. events of an external proxy without a log adapter). */
export type StepStatus = 'passed' | 'failed' | 'skipped' | 'not-verified' | 'not-run';

export interface StepOutcome {
  status: 'passed' | 'failed' | 'skipped' | 'not-verified';
  /** One line for the timeline, e.g. "gateway pid 123 on 127.0.0.1:40001 (generation 2)". */
  summary?: string;
  /** Extra lines (reasons, what was checked). */
  details?: string[];
  /** On failure of an expectation: what was expected and what was seen, one item per line. */
  expected?: string[];
  actual?: string[];
}

/** What a step needs; when the lab cannot offer it (external gateway), the step is skipped with the reason. */
export type StepNeed = 'own-gateway' | 'management-api';

export interface StepImpl<S extends StepDef = StepDef> {
  needs?: StepNeed[];
  /** A sentence saying what the step does, for listings and the timeline. */
  explain(step: S): string;
  run(step: S, lab: Lab): Promise<StepOutcome>;
}

export type StepLookup = { [K in StepName]: StepImpl<Extract<StepDef, { do: K }>> };

export const passed = (summary?: string, details?: string[]): StepOutcome => ({ status: 'passed', summary, details });
export const failed = (summary: string, extra: Partial<StepOutcome> = {}): StepOutcome => ({ status: 'failed', summary, ...extra });

/** Polls `check` until it reports done or the real-time deadline passes; returns the last result. */
export async function pollUntil<T extends { done: boolean }>(timeoutMs: number, check: () => Promise<T> | T, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result.done || Date.now() >= deadline) return result;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
}
