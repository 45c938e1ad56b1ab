import { isIP } from 'node:net';
import { InputError } from '../../lib/errors.js';

/** Validators for configuration values; `where` names the key (and file) in the message. */
export type Check<T> = (value: unknown, where: string) => T;

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? json.slice(0, 77) + '...' : json;
}

export const integer =
  (min: number, max: number, what = 'an integer'): Check<number> =>
  (value, where) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    throw new InputError(`${where} must be ${what} from ${min} to ${max}, got ${describe(value)}`);
  };

export const port = integer(0, 65535, 'a port number (integer)');

export const boolean: Check<boolean> = (value, where) => {
  if (typeof value === 'boolean') return value;
  throw new InputError(`${where} must be true or false, got ${describe(value)}`);
};

export const string: Check<string> = (value, where) => {
  if (typeof value === 'string' && value.trim().length > 0) return value;
  throw new InputError(`${where} must be a non-empty string, got ${describe(value)}`);
};

export const ipAddress: Check<string> = (value, where) => {
  if (typeof value === 'string' && (isIP(value) !== 0 || value === 'localhost')) return value;
  throw new InputError(`${where} must be an IP address such as 127.0.0.1 or ::1, got ${describe(value)}`);
};

export const stringList: Check<string[]> = (value, where) => {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new InputError(`${where} must be a list of strings, got ${describe(value)}`);
};

export const portList: Check<number[]> = (value, where) => {
  if (Array.isArray(value) && value.length > 0) return value.map((v, i) => integer(1, 65535, 'a port number')(v, `${where}[${i}]`));
  throw new InputError(`${where} must be a non-empty list of port numbers such as [443], got ${describe(value)}`);
};

export const userPass: Check<string> = (value, where) => {
  if (typeof value === 'string' && /^[^:]+:.+$/.test(value) && !/[\r\n]/.test(value)) return value;
  throw new InputError(`${where} must be "user:password"${typeof value === 'string' ? '' : `, got ${describe(value)}`}`);
};

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, where) => (value === null ? null : check(value, where));
}

export function parseIntegerFlag(text: string, flag: string, min: number, max: number): number {
  if (!/^-?[0-9]+$/.test(text.trim())) throw new InputError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return integer(min, max)(Number(text), flag);
}
