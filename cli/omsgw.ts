#!/usr/bin/env node
import { Command } from '@commander-js/extra-typings';
import { isInputError } from '../lib/errors.js';
import { registerGatewayCommands } from './commands/gateway.js';
import { registerCloudCommands } from './commands/cloud.js';
import { registerAgentCommands } from './commands/agent.js';
import { registerScenarioCommands } from './commands/scenario.js';
import { registerLoadCommands } from './commands/load.js';
import { registerBenchCommands } from './commands/bench.js';

export function buildProgram(): Command {
  const program = new Command('omsgw')
    .description('Reference OMS Log Analytics gateway, fake Azure endpoints, simulated agents, scenarios and load tools')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  registerGatewayCommands(program);
  registerCloudCommands(program);
  registerAgentCommands(program);
  registerScenarioCommands(program);
  registerLoadCommands(program);
  registerBenchCommands(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (isInputError(err)) {
      process.stderr.write(`omsgw: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`omsgw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

void main();
