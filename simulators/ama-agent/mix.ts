import { InputError } from '../../lib/errors.js';

export type FleetKind = 'windows' | 'linux' | 'ama';
export const FLEET_KINDS: readonly FleetKind[] = ['windows', 'linux', 'ama'];

/**
 * Splits `count` agents between Windows, Linux and AMA in proportion to the weights (largest
 * remainders, ties in the order windows, linux, ama), e.g. 10 with {1, 1, 1} → 4, 3, 3.
 */
export function splitAgentMix(count: number, mix: Partial<Record<FleetKind, number>>): Record<FleetKind, number> {
  for (const [k, w] of Object.entries(mix)) {
    if (!FLEET_KINDS.includes(k as FleetKind)) throw new InputError(`mix names an unknown agent kind "${k}": use windows, linux and/or ama`);
    if (!(typeof w === 'number' && Number.isFinite(w) && w >= 0)) throw new InputError(`mix weight for ${k} must be a number >= 0, got ${w}`);
  }
  const total = FLEET_KINDS.reduce((a, k) => a + (mix[k] ?? 0), 0);
  if (total <= 0) throw new InputError('mix needs a positive weight for windows, linux or ama, e.g. windows=1,linux=1,ama=1');
  const exact = FLEET_KINDS.map((k) => ({ k, n: (count * (mix[k] ?? 0)) / total }));
  const out = Object.fromEntries(exact.map((e) => [e.k, Math.floor(e.n)])) as Record<FleetKind, number>;
  let left = count - FLEET_KINDS.reduce((a, k) => a + out[k], 0);
  for (const e of [...exact].sort((a, b) => b.n - Math.floor(b.n) - (a.n - Math.floor(a.n)))) {
    if (left-- <= 0) break;
    out[e.k]++;
  }
  return out;
}
