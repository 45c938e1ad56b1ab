import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { InputError } from '../../lib/errors.js';

/** Writes a file through a temporary sibling and a rename, so a reader never sees half of it. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    throw new InputError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Sets (or with `undefined`, removes) keys of a JSON config file, keeping the others. */
export function updateJsonFile(path: string, patch: Record<string, unknown>): void {
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(`cannot update ${path}: ${(err as Error).message}`);
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete current[k];
    else current[k] = v;
  }
  writeFileAtomic(path, JSON.stringify(current, null, 2) + '\n');
}
