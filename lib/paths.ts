import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

let cached: string | undefined;

function isOmsgwRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return JSON.parse(readFileSync(file, 'utf8')).name === 'omsgw';
  } catch {
    return false;
  }
}

function walkUp(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (isOmsgwRoot(dir)) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The omsgw package folder, found from the running CLI script or, under jest, the working directory. */
export function packageRoot(): string {
  if (cached) return cached;
  const fromEnv = process.env.OMSGW_ROOT;
  const candidates = [fromEnv, process.argv[1] && existsSync(process.argv[1]) ? dirname(realpathSync(process.argv[1])) : undefined, process.cwd()];
  for (const c of candidates) {
    const found = c ? walkUp(c) : undefined;
    if (found) return (cached = found);
  }
  throw new Error('cannot find the omsgw package folder; set OMSGW_ROOT to it');
}

/** Path of the compiled CLI, for tests and runners that start omsgw as a child process. */
export function cliPath(): string {
  return join(packageRoot(), 'dist', 'cli', 'omsgw.js');
}
