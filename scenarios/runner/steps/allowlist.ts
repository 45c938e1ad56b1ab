import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AllowlistApiAddStep, AllowlistApiRemoveStep, AllowlistEditFileStep } from '../definitions.js';
import type { Lab } from '../lab.js';
import { adminRequest } from '../admin-client.js';
import { passed, type StepImpl } from '../step-types.js';

const FILES = { server: 'allowedlist_server.txt', client: 'allowedlist_client.txt' } as const;

/** The allowlist file of a gateway folder. */
export function allowlistPath(dir: string, which: 'server' | 'client'): string {
  return join(dir, FILES[which]);
}

export function readAllowlist(dir: string, which: 'server' | 'client'): string[] {
  const file = allowlistPath(dir, which);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

export function writeAllowlist(dir: string, which: 'server' | 'client', entries: string[]): void {
  writeFileSync(allowlistPath(dir, which), entries.map((e) => `${e}\n`).join(''));
}

/** Allowlist steps act on the default (or only) gateway's folder. */
function gatewayDir(lab: Lab): string {
  if (lab.gateways.size === 0) throw new Error(`${FILES.server} does not exist yet: start the gateway first`);
  return lab.gatewayNamed().dir;
}

export const allowlistEditFile: StepImpl<AllowlistEditFileStep> = {
  needs: ['own-gateway'],
  explain: (s) =>
    `edit ${FILES[s.file ?? 'server']}: ${[...(s.add ?? []).map((h) => `+${h}`), ...(s.remove ?? []).map((h) => `-${h}`)].join(' ')} (takes effect on restart or reload)`,
  async run(step, lab) {
    const which = step.file ?? 'server';
    const dir = gatewayDir(lab);
    if (!existsSync(allowlistPath(dir, which)) && which === 'server') throw new Error(`${FILES.server} does not exist yet: start the gateway first`);
    // Edit as a person would: keep the comments and order, drop removed lines, append added hosts.
    const file = allowlistPath(dir, which);
    const lower = (s: string) => s.trim().toLowerCase();
    const drop = new Set((step.remove ?? []).map(lower));
    const lines = (existsSync(file) ? readFileSync(file, 'utf8') : '').split(/\r?\n/).filter((l, i, all) => !(i === all.length - 1 && l === ''));
    // Removing a host the file does not list would change nothing, which is most likely a misspelt name.
    const absent = (step.remove ?? []).filter((h) => !lines.some((l) => lower(l) === lower(h)));
    if (absent.length) throw new Error(`cannot remove ${absent.join(', ')}: not in ${FILES[which]}, which lists ${readAllowlist(dir, which).join(', ') || 'nothing'}`);
    const kept = lines.filter((l) => !drop.has(lower(l)));
    for (const h of step.add ?? []) if (!kept.some((l) => lower(l) === lower(h))) kept.push(h);
    writeFileSync(file, kept.map((l) => `${l}\n`).join(''));
    return passed(`${FILES[which]} now allows ${readAllowlist(dir, which).length} entries`);
  },
};

export const allowlistApiAdd: StepImpl<AllowlistApiAddStep> = {
  needs: ['own-gateway', 'management-api'],
  explain: (s) => `add ${s.host} through the management API (POST /api/allowlist/hosts), no restart`,
  async run(step, lab) {
    await adminRequest(lab.adminUrlOf(), 'POST', '/api/allowlist/hosts', { host: step.host });
    return passed(`${step.host} allowed`);
  },
};

export const allowlistApiRemove: StepImpl<AllowlistApiRemoveStep> = {
  needs: ['own-gateway', 'management-api'],
  explain: (s) => `remove ${s.host} through the management API (DELETE /api/allowlist/hosts)`,
  async run(step, lab) {
    await adminRequest(lab.adminUrlOf(), 'DELETE', `/api/allowlist/hosts/${encodeURIComponent(step.host)}`);
    return passed(`${step.host} no longer allowed`);
  },
};
