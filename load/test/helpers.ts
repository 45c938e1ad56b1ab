import { execFile } from 'node:child_process';
import { cliPath } from '../../lib/paths.js';
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

/**
 * `omsgw <args>` from dist/ as a child process: its exit code (-1 when it did not exit by itself,
 * e.g. killed at `timeoutMs`), stdout and stderr. Never rejects.
 */
export function runOmsgw(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(), ...args], { encoding: 'utf8', maxBuffer: 16 << 20, timeout: opts.timeoutMs ?? 0 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}
