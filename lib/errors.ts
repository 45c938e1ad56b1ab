/**
 * Bad input from a person (config, flags, scenario files): the message says what to fix.
 * The CLI prints it without a stack trace and exits with code 2.
 */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'InputError';
  }
}

export function isInputError(err: unknown): err is InputError {
  return err instanceof Error && err.name === 'InputError';
}
