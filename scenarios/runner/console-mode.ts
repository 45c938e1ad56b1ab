import { InputError } from '../../lib/errors.js';
import { durationMs, formatMs } from './duration.js';
import type { Lab } from './lab.js';
import type { RunOptions } from './runner.js';

/** `--console`, `--pace`, `--keep` of `omsgw lab` and `omsgw scenario run`. */
export interface ConsoleFlags {
  console?: boolean;
  pace?: string;
  keep?: string;
}

export interface ConsoleMode {
  /** False for `--pace` alone: the steps are paced, but no console URL is printed and the lab is not kept. */
  console: boolean;
  paceMs: number;
  /** Undefined: until SIGINT/SIGTERM. */
  keepMs?: number;
}

const DEFAULT_PACE_MS = 1000;

function flagDuration(flag: string, value: string): number {
  try {
    return durationMs(value);
  } catch {
    throw new InputError(`${flag} must be a duration such as 500ms, 1s or 5m, got ${JSON.stringify(value)}`);
  }
}

/** Validates the flags: --keep needs --console; --console defaults the pace to 1s. */
export function parseConsoleFlags(o: ConsoleFlags, scenarios: number, external: boolean): ConsoleMode | undefined {
  const paceMs = o.pace !== undefined ? flagDuration('--pace', o.pace) : undefined;
  if (!o.console) {
    if (o.keep !== undefined) throw new InputError('--keep only applies with --console (it says how long the lab stays up for the console after the story)');
    return paceMs ? { console: false, paceMs } : undefined;
  }
  if (external) throw new InputError('--console shows omsgw\'s own gateway; it cannot be used with --gateway (an external proxy has no console)');
  if (scenarios !== 1) throw new InputError(`--console keeps one lab running: give one scenario, not ${scenarios}`);
  const keepMs = o.keep !== undefined ? flagDuration('--keep', o.keep) : undefined;
  return { console: true, paceMs: paceMs ?? DEFAULT_PACE_MS, keepMs };
}

/**
 * Runner hooks for console mode: print each gateway's console URL as soon as it runs (a restart
 * keeps the port, so the page stays valid), pace the steps, and keep the lab up after the story
 * for `keepMs` or until SIGINT/SIGTERM.
 */
export function consoleHooks(mode: ConsoleMode, print: (line: string) => void): Pick<RunOptions, 'onLab' | 'paceMs' | 'keep'> & { onStepSeen(): void } {
  let lab: Lab | undefined;
  const shown = new Set<string>();
  const announce = (): void => {
    if (!mode.console) return;
    for (const gw of lab?.gateways.values() ?? []) {
      const url = gw.handle?.adminUrl;
      if (url && !shown.has(url)) {
        shown.add(url);
        print(`console: ${url}/  (gateway ${gw.name}; open it in a browser to watch the events and counters)`);
      }
    }
  };
  return {
    paceMs: mode.paceMs,
    onLab(l) {
      lab = l;
    },
    onStepSeen: announce,
    keep: !mode.console ? undefined : async () => {
      announce();
      const urls = [...shown].map((u) => `${u}/`).join(', ') || '(no gateway running)';
      // Listen before saying "Ctrl-C to stop": whoever reads the line may signal at once, and a
      // signal that comes before the listener kills the process instead of tearing the lab down.
      const stopped = new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          process.removeListener('SIGINT', done);
          process.removeListener('SIGTERM', done);
          resolve();
        };
        const timer = mode.keepMs !== undefined ? setTimeout(done, mode.keepMs) : undefined;
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      print(mode.keepMs !== undefined ? `lab kept running for ${formatMs(mode.keepMs)} for the console at ${urls}; Ctrl-C to stop sooner` : `lab kept running for the console at ${urls}; Ctrl-C to stop`);
      await stopped;
      print('stopping the lab');
    },
  };
}
