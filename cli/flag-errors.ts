import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../lib/errors.js';

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent as Command | null) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Flag errors (unknown option or command, missing argument, bad choice) exit 2 like every other
 * invalid input: commander's own message becomes one InputError that omsgw prints once.
 * Help still exits 0 (2 when it is shown because a subcommand is missing).
 */
export function exitTwoOnFlagErrors(cmd: Command): void {
  cmd
    .configureOutput({ outputError: () => undefined })
    .showHelpAfterError(false)
    .exitOverride((err) => {
      if (err.exitCode === 0 || err.code === 'commander.help' || err.code === 'commander.helpDisplayed') process.exit(err.exitCode === 0 ? 0 : 2);
      const where = commandPath(cmd);
      throw new InputError(`${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (run omsgw ${where ? `${where} ` : ''}--help for usage)`);
    });
  for (const sub of cmd.commands) exitTwoOnFlagErrors(sub as unknown as Command);
}
