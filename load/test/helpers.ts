import type { LoadOptions } from '../options.js';

/** The CLI's defaults as LoadOptions (agents profile, 20 agents, 30 s), with the fields a test sets. */
export function loadOptions(o: Partial<LoadOptions> = {}): LoadOptions {
  return {
    profile: 'agents',
    count: 20,
    durationMs: 30_000,
    rampUpMs: 0,
    concurrency: 200,
    forbiddenRate: 0,
    errorRate: 0,
    kbPerUpload: 200,
    intervalMs: 6000,
    speed: 1,
    mix: { windows: 1, linux: 1 },
    seed: 'test',
    ...o,
  };
}
