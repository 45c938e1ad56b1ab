import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import type { ScenarioResult } from '../../scenarios/runner/runner.js';
import type { LoadedScenario } from '../../scenarios/runner/definitions.js';
import { consoleHooks, parseConsoleFlags, type ConsoleMode } from '../../scenarios/runner/console-mode.js';
import type { ExternalGateway } from '../../scenarios/runner/external.js';

// The runner pulls in the fake cloud, the agents and ajv: load it only when a scenario command runs,
// so that other omsgw commands (the gateway child process above all) start fast.
const REPORTERS = ['pretty', 'json', 'junit', 'html'] as const;
type ReporterName = (typeof REPORTERS)[number];

async function runner() {
  const [catalogue, load, run, reporters, pretty, style, story, parts] = await Promise.all([
    import('../../scenarios/runner/catalogue.js'),
    import('../../scenarios/runner/load.js'),
    import('../../scenarios/runner/runner.js'),
    import('../../scenarios/runner/reporters/index.js'),
    import('../../scenarios/runner/reporters/pretty.js'),
    import('../../scenarios/runner/reporters/style.js'),
    import('../../scenarios/runner/lab-story.js'),
    import('../../scenarios/runner/parts.js'),
  ]);
  const external = await import('../../scenarios/runner/external.js');
  return { ...catalogue, ...load, ...run, ...reporters, ...pretty, ...style, ...story, ...parts, ...external };
}

/** host:port of an external CONNECT proxy; loopback only, like everything this project drives. */
export function parseExternalGateway(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new InputError(`--gateway must be host:port, e.g. 127.0.0.1:3128, got ${JSON.stringify(text)}`);
  const host = m[1].replace(/^\[|\]$/g, '');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== '::1' && host !== 'localhost') {
    throw new InputError(`--gateway must be a loopback address (127.0.0.0/8, ::1 or localhost), got ${host}`);
  }
  return { host, port };
}

/** Creates the --out folder before anything runs, so a bad path is an input error, not a crash after every scenario ran. */
export function prepareOutDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError(`--out must be a folder, but ${dir} is a file`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new InputError(`--out: cannot create the folder ${dir}: ${(err as Error).message}`);
  }
}

function parseCloudPort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new InputError(`--cloud-port must be a port number 1-65535, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseReporter(name: string): ReporterName {
  if ((REPORTERS as readonly string[]).includes(name)) return name as ReporterName;
  throw new InputError(`--reporter must be one of ${REPORTERS.join(', ')}, got ${JSON.stringify(name)}`);
}

/** Runs scenarios one after another; pretty output streams step by step. Returns the results. */
/** Exit status of a run: 0 all passed, 1 any failed, 3 none failed but some rested only on unverified expectations (2: invalid input). */
export function exitCodeOf(results: ScenarioResult[]): number {
  if (results.some((r) => r.verdict === 'failed')) return 1;
  if (results.some((r) => r.verdict === 'not-verified')) return 3;
  return 0;
}

const VERDICT_WORD = { passed: 'PASSED', failed: 'FAILED', 'not-verified': 'NOT VERIFIED' } as const;

async function runAll(scenarios: LoadedScenario[], opts: { reporter: ReporterName; out?: string; external?: ExternalGateway; console?: ConsoleMode }): Promise<ScenarioResult[]> {
  const { makeStyle, colourWanted, runScenario, realParts, TimelinePrinter, REPORT_FILE, render } = await runner();
  const style = makeStyle(!opts.out && colourWanted(process.stdout));
  const stream = opts.reporter === 'pretty' && !opts.out;
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    const printer = new TimelinePrinter((text) => process.stdout.write(text), style);
    if (stream) printer.header(s.def.name, s.def.title, opts.external && `${opts.external.host}:${opts.external.port}`);
    const hooks = opts.console ? consoleHooks(opts.console, (line) => process.stdout.write(`${line}\n`)) : undefined;
    const result = await runScenario(s, {
      parts: realParts,
      external: opts.external,
      onStep:
        stream || hooks
          ? (step, events) => {
              if (stream) printer.step(step, events);
              hooks?.onStepSeen();
            }
          : undefined,
      onLab: hooks?.onLab,
      sampleCounters: opts.reporter === 'html',
      paceMs: hooks?.paceMs,
      keep: hooks?.keep,
    });
    if (stream) {
      printer.finish(result);
      process.stdout.write('\n');
    }
    results.push(result);
  }
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    const file = join(opts.out, REPORT_FILE[opts.reporter]);
    writeFileSync(file, render(opts.reporter, results, makeStyle(false)));
    for (const r of results) process.stdout.write(`${VERDICT_WORD[r.verdict]} ${r.name} (${(r.durationMs / 1000).toFixed(1)}s)\n`);
    process.stdout.write(`report: ${file}\n`);
  } else if (!stream) process.stdout.write(render(opts.reporter, results, style));
  else if (results.length > 1) {
    const failed = results.filter((r) => r.verdict === 'failed').map((r) => r.name);
    const unverified = results.filter((r) => r.verdict === 'not-verified').map((r) => r.name);
    process.stdout.write(`${results.length - failed.length - unverified.length}/${results.length} scenarios passed${failed.length ? `; failed: ${failed.join(', ')}` : ''}${unverified.length ? `; not verified: ${unverified.join(', ')}` : ''}\n`);
  }
  return results;
}

export function registerScenarioCommands(program: Command): void {
  const scenario = program.command('scenario').description('List and run scripted scenarios (scenarios/*.yaml or your own files)');

  scenario
    .command('list')
    .description('List the scenario catalogue')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  omsgw scenario list')
    .action(async (o) => {
      const { listCatalogue, loadScenarioFile } = await runner();
      const entries = listCatalogue().map((e) => ({ ...e, title: loadScenarioFile(e.file).def.title }));
      if (o.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      else {
        const width = Math.max(...entries.map((e) => e.name.length));
        for (const e of entries) process.stdout.write(`${e.name.padEnd(width)}  ${e.title}\n`);
      }
    });

  scenario
    .command('run')
    .description('Run scenarios by catalogue name or file; exit 0 when all pass, 1 when any fails, 2 for invalid input, 3 when none failed but some were not verified')
    .argument('<scenario...>', 'catalogue names (see `omsgw scenario list`) or paths to .yaml files')
    .option('--reporter <name>', `output format: ${REPORTERS.join(', ')}`, 'pretty')
    .option('--out <dir>', 'write the report to a file in this folder (scenarios.txt, scenarios.json, junit.xml or scenarios.html)')
    .option('--gateway <host:port>', 'test an external CONNECT proxy (e.g. squid) instead of starting omsgw\'s gateway; expectations it cannot show are "not verified"')
    .option('--cloud-port <port>', 'fixed port for the fake cloud, so the external proxy can be configured to reach it (printed before the run)')
    .option('--gateway-log <adapter:path>', 'the external proxy\'s log as events 103/104/105/403, e.g. squid:/var/log/squid/access.log')
    .option('--console', 'print the gateway\'s web console URL, pace the steps (default 1s) and keep the lab running after the story (one scenario)')
    .option('--pace <duration>', 'wait this long before each step, e.g. 1s, so a person can watch')
    .option('--keep <duration>', 'with --console: keep the lab up this long after the story (default: until Ctrl-C)')
    .addHelpText('after', '\nExamples:\n  omsgw scenario run linux-allowlist-bug\n  omsgw scenario run windows-happy-path non-connect-104 --reporter junit --out reports\n  omsgw scenario run my-lab.yaml --gateway 127.0.0.1:3128')
    .action(async (names, o) => {
      const reporter = parseReporter(o.reporter);
      const target = o.gateway ? parseExternalGateway(o.gateway) : undefined;
      const cloudPort = o.cloudPort === undefined ? undefined : parseCloudPort(o.cloudPort);
      if (!target && (cloudPort !== undefined || o.gatewayLog)) throw new InputError('--cloud-port and --gateway-log are for an external proxy: give --gateway host:port too');
      if (o.out !== undefined) prepareOutDir(o.out);
      const { loadScenarioFile, resolveScenario, parseGatewayLog, checkReachable, externalRouteText } = await runner();
      // Validate every file before starting anything: invalid input exits 2 with nothing half-run.
      const consoleMode = parseConsoleFlags(o, names.length, !!target);
      const loaded = names.map((n) => loadScenarioFile(resolveScenario(n)));
      const external: ExternalGateway | undefined = target && { ...target, cloudPort, gatewayLog: o.gatewayLog ? parseGatewayLog(o.gatewayLog) : undefined };
      if (external) {
        process.stderr.write(externalRouteText(loaded, cloudPort));
        await checkReachable(external);
      }
      const results = await runAll(loaded, { reporter, out: o.out, external, console: consoleMode });
      process.exitCode = exitCodeOf(results);
    });

  program
    .command('lab')
    .description('Reproduce the 2016 Linux allowlist bug end to end (the linux-allowlist-bug scenario) and explain it')
    .option('--console', 'print the gateway\'s web console URL, pace the steps (default 1s) and keep the lab running after the story')
    .option('--pace <duration>', 'wait this long before each step, e.g. 1s, so a person can watch the 105 turn into 107')
    .option('--keep <duration>', 'with --console: keep the lab up this long after the story (default: until Ctrl-C)')
    .addHelpText('after', '\nExamples:\n  omsgw lab        # same as: npm start\n  omsgw lab --console --pace 1s')
    .action(async (o) => {
      const consoleMode = parseConsoleFlags(o, 1, false);
      const { loadScenarioFile, resolveScenario, labStory, makeStyle, colourWanted } = await runner();
      const s = loadScenarioFile(resolveScenario('linux-allowlist-bug'));
      const [result] = await runAll([s], { reporter: 'pretty', console: consoleMode });
      process.stdout.write(`${labStory(result, s.def.explanation, makeStyle(colourWanted(process.stdout)))}\n`);
      process.exitCode = result.passed ? 0 : 1;
    });
}

