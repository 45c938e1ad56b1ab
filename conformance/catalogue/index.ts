import { InputError } from '../../lib/errors.js';
import type { CaseDef } from '../types.js';
import { ALLOWLIST_CASES } from './allowlist.js';
import { CONFIG_CHANGE_CASES } from './config-change.js';
import { LIMIT_AUTH_RELAY_CASES } from './limits-auth.js';
import { REQUEST_CASES } from './requests.js';
import { SECTIONS } from './sections.js';
import { TLS_TUNNEL_CASES } from './tls-tunnel.js';

export { SECTIONS };

/** Every case, in id order. Section 12 (events and counters) is generated per section by the runner. */
export const CASES: CaseDef[] = [...REQUEST_CASES, ...ALLOWLIST_CASES, ...LIMIT_AUTH_RELAY_CASES, ...TLS_TUNNEL_CASES, ...CONFIG_CHANGE_CASES];

/** Ids of section 12, one per section it checks. */
export const EVENT_CHECK_IDS = SECTIONS.filter((s) => s.id < 12).map((s) => `12.${s.id}`);

/**
 * `--cases` ids or section prefixes ("5" = all of section 5, "5.4" = that case). Unknown ids are an
 * input error naming them.
 */
export function selectCases(ids: string[] | undefined): CaseDef[] {
  if (!ids?.length) return CASES;
  const unknown = ids.filter((id) => !CASES.some((c) => c.id === id || String(c.section) === id));
  if (unknown.length) {
    const hint = unknown.some((id) => id.startsWith('12')) ? ' (12.<n> checks run with their section whenever --admin is given)' : '';
    throw new InputError(`--cases: unknown case id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}${hint}; give ids from ${CASES[0].id} to ${CASES[CASES.length - 1].id} or section numbers 1-11 (list them: omsgw conformance --list)`);
  }
  return CASES.filter((c) => ids.includes(c.id) || ids.includes(String(c.section)));
}
