import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../../lib/errors.js';
import { validatePartialConfig, type GatewayConfig } from './schema.js';

export const SERVER_ALLOWLIST_FILE = 'allowedlist_server.txt';
export const CLIENT_ALLOWLIST_FILE = 'allowedlist_client.txt';
export const CONFIG_FILE = 'gateway.json';

const PATH_KEYS = ['allowlistFile', 'clientAllowlistFile', 'hostMapFile', 'eventLog'] as const;

/** Reads and validates gateway.json; relative paths in it are relative to its folder. */
export function loadConfigFile(path: string): Partial<GatewayConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`config file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const config = validatePartialConfig(raw, (key) => `${path}: "${key}"`, `config file ${path}`);
  const base = dirname(resolve(path));
  for (const key of PATH_KEYS) {
    const v = config[key];
    if (typeof v === 'string' && !isAbsolute(v)) config[key] = join(base, v);
  }
  return config;
}

/** The files `--dir D` stands for, as far as they exist (the server allowlist must). */
export function filesInDir(dir: string): { config?: string; allowlistFile: string; clientAllowlistFile?: string } {
  if (!existsSync(dir)) throw new InputError(`--dir ${dir} does not exist (create it with: omsgw gateway init --workspace <id> --dir ${dir})`);
  const allowlistFile = join(dir, SERVER_ALLOWLIST_FILE);
  if (!existsSync(allowlistFile)) throw new InputError(`--dir ${dir} has no ${SERVER_ALLOWLIST_FILE} (create it with: omsgw gateway init --workspace <id> --dir ${dir})`);
  const client = join(dir, CLIENT_ALLOWLIST_FILE);
  const config = join(dir, CONFIG_FILE);
  return { allowlistFile, clientAllowlistFile: existsSync(client) ? client : undefined, config: existsSync(config) ? config : undefined };
}
