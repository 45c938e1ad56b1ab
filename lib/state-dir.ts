import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from './errors.js';

/**
 * Makes sure a folder the user named for state (a key cache, the lab CA) exists, creating at most
 * `newLevels` missing folders at its end, one at a time. A typo deep in a path is refused instead of
 * silently creating /nonexistent/..., and Node's recursive mkdir (which spins for ever under /proc)
 * is never used. Returns the absolute path.
 */
export function ensureStateDir(path: string, flag: string, newLevels = 1): string {
  const abs = resolve(path);
  const missing: string[] = [];
  let at = abs;
  for (;;) {
    try {
      if (!statSync(at).isDirectory()) throw new InputError(`${flag} ${path}: ${at} is a file, not a folder`);
      break;
    } catch (err) {
      if (err instanceof InputError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new InputError(`${flag} ${path}: cannot use ${at} (${code ?? (err as Error).message})`);
    }
    missing.unshift(at);
    if (missing.length > newLevels || dirname(at) === at) throw new InputError(`${flag} ${path}: ${dirname(at) === at ? at : missing[0]} does not exist; create it first or choose another folder`);
    at = dirname(at);
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new InputError(`${flag} ${path}: cannot create ${dir} (${code ?? (err as Error).message})`);
    }
  }
  return abs;
}
