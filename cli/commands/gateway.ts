import type { Command } from '@commander-js/extra-typings';
import { registerAllowlist } from './allowlist.js';
import { registerConfigCommands } from './config.js';
import { registerCounters } from './counters.js';
import { registerEvents } from './events.js';
import { registerInit } from './gateway-init.js';
import { registerRun } from './gateway-run.js';
import { registerReload, registerStatus } from './gateway-status.js';

/**
 * The gateway's commands: `gateway` (run), `gateway init|reload`, and the management commands
 * (allowlist, config, relay-proxy, events, counters), which act on a running gateway (--admin) or
 * on its folder (--dir) through one ManagementTarget (cli/management/target.ts).
 */
export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('run the reference OMS gateway (CONNECT-only forward proxy), or set up its folder');
  registerRun(gateway);
  registerInit(gateway);
  registerReload(gateway);
  registerStatus(gateway);
  registerAllowlist(program);
  registerConfigCommands(program);
  registerEvents(program);
  registerCounters(program);
}
