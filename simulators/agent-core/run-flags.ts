/** What `omsgw agent` and `omsgw ama-agent` share: the fleet-run flags and how whole-number flags are read. */
import { InputError } from '../../lib/errors.js';

/** The flags (as commander hands them over, text) that size and time a fleet run, the same for both agent kinds. */
export interface FleetRunFlags {
  count: string;
  bindRange?: string;
  duration: string;
  speed: string;
  seed?: string;
  once?: boolean;
  queueLimit: string;
  verbose?: boolean;
  json?: boolean;
}

/** A flag's whole number from 1 to `max`, or an InputError naming the flag. */
export function positiveInt(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > max) throw new InputError(`${flag} must be a whole number from 1 to ${max}, got "${text}"`);
  return Number(text);
}
