import { Command } from '@commander-js/extra-typings';
import { registerGatewayCommands } from '../../cli/commands/gateway.js';
import { exitTwoOnFlagErrors } from '../../cli/flag-errors.js';

/** Runs `omsgw <args>` in this process; resolves with what it printed, rejects with its error (`output`: what it printed). */
export async function omsgw(...args: string[]): Promise<string> {
  const program = new Command('omsgw').exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  registerGatewayCommands(program as unknown as Command);
  exitTwoOnFlagErrors(program as unknown as Command);
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  // Help exits the process (code 0); here it becomes an error the test can see.
  const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    throw Object.assign(new Error(`process.exit(${code})`), { exitCode: code });
  }) as never);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    // What was printed before the error (for --help: the whole help text) travels with it.
    if (err instanceof Error) Object.assign(err, { output: out });
    throw err;
  } finally {
    spy.mockRestore();
    exit.mockRestore();
  }
  return out;
}

