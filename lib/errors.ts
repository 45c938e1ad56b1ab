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

/**
 * A run that could not finish for a reason it can name (a process it started died): not bad input and
 * not a bug in omsgw. The CLI prints the message without a stack trace and exits with code 1.
 */
export class RunFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFailure';
  }
}

export function isRunFailure(err: unknown): err is RunFailure {
  return err instanceof Error && err.name === 'RunFailure';
}
