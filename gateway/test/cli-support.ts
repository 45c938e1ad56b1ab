import { Command } from '@commander-js/extra-typings';
import { registerGatewayCommands } from '../../cli/commands/gateway.js';
import { exitTwoOnFlagErrors } from '../../cli/flag-errors.js';
import { join } from 'node:path';
import { createGateway, type Gateway, type GatewayOptions } from '../index.js';
import { tempDir } from './support.js';

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


/** A fresh folder for each test, and the file-backed gateway a test starts in it (closed after the test). */
export interface GatewayDirPerTest {
  /** This test's folder (new for each test, removed after it). */
  readonly dir: string;
  /** `omsgw gateway init` in `dir`, then a gateway on its files (ports pinned, no TLS inspection), started. */
  startOn(dir: string, workspace: string, extra?: GatewayOptions): Promise<{ gw: Gateway; admin: string }>;
}

/** Registers the beforeEach/afterEach that give each test its folder and close the gateway it started. */
export function gatewayDirPerTest(): GatewayDirPerTest {
  let work: ReturnType<typeof tempDir> | undefined;
  let gw: Gateway | undefined;
  beforeEach(() => {
    work = tempDir();
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    work?.cleanup();
  });
  return {
    get dir() {
      if (!work) throw new Error('gatewayDirPerTest().dir is only there inside a test');
      return work.dir;
    },
    async startOn(dir, workspace, extra = {}) {
      await omsgw('gateway', 'init', '--workspace', workspace, '--dir', dir);
      const g = createGateway({ listenPort: 0, adminPort: 0, allowlistFile: join(dir, 'allowedlist_server.txt'), clientAllowlistFile: join(dir, 'allowedlist_client.txt'), configFile: join(dir, 'gateway.json'), pinnedKeys: ['listenPort', 'adminPort'], tlsInspection: false, ...extra });
      await g.start();
      gw = g;
      return { gw: g, admin: `http://127.0.0.1:${g.adminAddress!.port}` };
    },
  };
}
