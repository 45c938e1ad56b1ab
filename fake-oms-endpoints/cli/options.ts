import { randomBytes, randomUUID } from 'node:crypto';
import { InputError } from '../../lib/errors.js';
import { GUID_RE } from '../hosts.js';
import { isValidSharedKey } from '../protocol/signatures.js';
import type { Workspace } from '../cloud.js';

/** `<workspaceId>:<base64 key>`; the key alphabet has no ':' so the first colon splits. */
export function parseWorkspaceFlag(value: string): Workspace {
  const colon = value.indexOf(':');
  if (colon < 0) throw new InputError(`--workspace must be <id>:<key>, got "${value}" (no colon)`);
  const id = value.slice(0, colon).trim();
  const key = value.slice(colon + 1).trim();
  if (!GUID_RE.test(id)) throw new InputError(`--workspace id must be a GUID like 6f1b4d2a-3c5e-4f70-8a9b-0c1d2e3f4a5b, got "${id}"`);
  if (!isValidSharedKey(key)) throw new InputError(`--workspace ${id}: key must be base64 of at least 16 bytes (e.g. from "openssl rand -base64 64"), got "${key}"`);
  return { id: id.toLowerCase(), key };
}

export function parsePortFlag(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InputError(`${name} must be a port number 0-65535 (0 = any free port), got "${value}"`);
  return Number(value);
}

/** A fresh workspace: random GUID and a 64-byte key, like the portal's primary key. */
export function generateWorkspace(): Workspace {
  return { id: randomUUID(), key: randomBytes(64).toString('base64') };
}
