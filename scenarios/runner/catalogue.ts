import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { InputError } from '../../lib/errors.js';

export interface CatalogueEntry {
  name: string;
  file: string;
}

export function catalogueDir(): string {
  return join(packageRoot(), 'scenarios');
}

/** The scenario files shipped in scenarios/*.yaml, by name. */
export function listCatalogue(): CatalogueEntry[] {
  return readdirSync(catalogueDir())
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => ({ name: basename(f).replace(/\.ya?ml$/, ''), file: join(catalogueDir(), f) }));
}

/** A catalogue name or a path to a scenario file. */
export function resolveScenario(nameOrFile: string): string {
  if (/\.ya?ml$/.test(nameOrFile) || nameOrFile.includes('/')) {
    const file = resolve(nameOrFile);
    if (!existsSync(file)) throw new InputError(`scenario file not found: ${nameOrFile}`);
    return file;
  }
  const entry = listCatalogue().find((e) => e.name === nameOrFile);
  if (!entry) {
    throw new InputError(`unknown scenario "${nameOrFile}"; known: ${listCatalogue().map((e) => e.name).join(', ')} (or give a path to a .yaml file)`);
  }
  return entry.file;
}
