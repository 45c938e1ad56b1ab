#!/usr/bin/env node
import { Command } from '@commander-js/extra-typings';
import { isInputError, isRunFailure } from '../lib/errors.js';
import { exitTwoOnFlagErrors } from './flag-errors.js';

type Registrar = (program: Command) => void;

const gateway = () => import('./commands/gateway.js').then((m) => m.registerGatewayCommands);
const cloud = () => import('./commands/cloud.js').then((m) => m.registerCloudCommands);
const agent = () => import('./commands/agent.js').then((m) => m.registerAgentCommands);
const scenario = () => import('./commands/scenario.js').then((m) => m.registerScenarioCommands);
const load = () => import('./commands/load.js').then((m) => m.registerLoadCommands);
const bench = () => import('./commands/bench.js').then((m) => m.registerBenchCommands);
const conformance = () => import('./commands/conformance.js').then((m) => m.registerConformanceCommands);

/**
 * Top-level command → the module that registers it. Only the module a command needs is loaded,
 * so `omsgw gateway` (started again and again by scenarios and tests) does not pay for the
 * agents', load tool's and benchmark's libraries.
 */
const COMMAND_MODULES: Record<string, () => Promise<Registrar>> = {
  gateway,
  allowlist: gateway,
  config: gateway,
  'relay-proxy': gateway,
  events: gateway,
  counters: gateway,
  cloud,
  agent,
  scenario,
  lab: scenario,
  load,
  bench,
  conformance,
};

/** The CLI for these arguments: only the requested command's module, or every module for help and unknown commands. */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('omsgw')
    .description('Reference OMS Log Analytics gateway, fake Azure endpoints, simulated agents, scenarios and load tools')
    .version('0.1.0');
  const requested = COMMAND_MODULES[argv[2] ?? ''];
  const loaders = requested ? [requested] : [...new Set(Object.values(COMMAND_MODULES))];
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program);
  exitTwoOnFlagErrors(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await (await buildProgram()).parseAsync(process.argv);
  } catch (err) {
    if (isInputError(err)) {
      process.stderr.write(`omsgw: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    // A named failure of the run says what happened; anything else is a bug, and its stack helps.
    process.stderr.write(`omsgw: ${isRunFailure(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

void main();
