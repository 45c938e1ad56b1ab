import { Option, type Command } from '@commander-js/extra-typings';
import { BEHAVIORS, type AgentBehavior } from '../../simulators/agent-core/behavior.js';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../../lib/errors.js';
import { PROFILES, runLoad, type LoadOptions, type LoadProfile } from '../../load/runner.js';
import { formatLoadReport } from '../../load/report/text.js';
import { renderLoadHtml } from '../../load/report/html.js';
import { parseWorkspaceFlag } from '../../fake-oms-endpoints/cli/options.js';
import { labCaPem, openLab, publishResult, type RemoteLab } from '../../load/shard/lab.js';
import { parseRunId, parseShard, type ShardSpec } from '../../load/shard/spec.js';
import { registerLoadMergeCommand } from './load-merge.js';
import { IpcCoordinator } from '../../load/processes/child.js';
import { runProcesses } from '../../load/processes/parent.js';

/** "90s", "2m", "1500ms" or plain seconds → ms. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InputError(`${flag} must be a duration like 30s, 2m or 1500ms, got "${text}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

function parseNumber(text: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new InputError(`${flag} must be a number, got "${text}"`);
  return Number(text);
}

function parseMix(text: string): { windows: number; linux: number; ama: number } {
  const mix = { windows: 0, linux: 0, ama: 0 };
  for (const part of text.split(',')) {
    const m = /^\s*(windows|linux|ama)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new InputError(`--mix must look like windows=1,linux=1 (or windows=1,linux=1,ama=1 with Azure Monitor Agents), got "${text}"`);
    mix[m[1] as 'windows' | 'linux' | 'ama'] = Number(m[2]);
  }
  return mix;
}

function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new InputError(`--gateway must be host:port (a loopback address), got "${text}"`);
  return { host: m[1], port: Number(m[2]) };
}

/** Flags that only mean something for some runs: given elsewhere they would be ignored without a word. */
const AGENTS_ONLY = ['agents', 'rampUp', 'kbPerUpload', 'interval', 'speed', 'mix', 'behavior', 'processes'] as const;
const TUNNELS_ONLY = ['connections'] as const;
const NOT_WITH_SOAK = [...AGENTS_ONLY, ...TUNNELS_ONLY, 'profile', 'duration', 'concurrency', 'forbiddenRate', 'errorRate', 'httpRefusals', 'admin', 'targetPort', 'seed', 'report'] as const;

const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The flags the user typed that this run would ignore, as an InputError: e.g. `--agents` with
 * `--profile churn` (which counts --connections), `--admin` without `--gateway` (omsgw's own
 * management API is used), `--soak-rate` without `--soak`.
 */
export function checkFlagsApply(given: (key: string) => boolean, opts: { profile: string; soak?: string; gateway?: string }): void {
  const typed = (keys: readonly string[]) => keys.filter(given).map(flagName);
  const refuse = (flags: string[], why: string) => {
    if (flags.length) throw new InputError(`${flags.join(', ')} ${flags.length > 1 ? 'have' : 'has'} no effect ${why}; drop ${flags.length > 1 ? 'them' : 'it'}`);
  };
  if (opts.soak !== undefined) return refuse(typed(NOT_WITH_SOAK), 'with --soak (it runs its own churn against a gateway it starts)');
  refuse(typed(['soakRate']), 'without --soak');
  refuse(typed(opts.profile === 'agents' ? TUNNELS_ONLY : AGENTS_ONLY), opts.profile === 'agents' ? 'with the agents profile (use --agents)' : `with --profile ${opts.profile} (agents profile only; use --connections)`);
  if (!opts.gateway) refuse(typed(['admin']), 'without --gateway (omsgw\'s own management API is read)');
}

/** `--processes N`: a whole number of agent processes, at least 1. */
export function parseProcesses(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InputError(`--processes must be a whole number of agent processes, 1 or more (1: the agents run in this process), got "${text}"`);
  return Number(text);
}

/** Flags that point a run at something else than what `--processes N` starts itself. */
export function checkProcessesFlags(processes: number, f: { profile: string; shard?: string; cloud?: string; workspace?: string; runId?: string; publish?: string; gateway?: string }): void {
  if (processes === 1) return;
  if (f.profile !== 'agents') throw new InputError(`--processes spreads simulated agents over processes: it is for the agents profile, not --profile ${f.profile}`);
  if (f.shard !== undefined || f.runId !== undefined || f.publish !== undefined) throw new InputError('--processes runs the shards of one run itself (each agent process is shard k of N): drop --shard, --run-id and --publish, or drop --processes to run one shard');
  if (f.cloud !== undefined || f.workspace !== undefined) throw new InputError('--processes starts its own fake cloud for its agent processes: drop --cloud and --workspace (or drop --processes)');
  if (f.gateway !== undefined) throw new InputError('--processes starts an omsgw gateway to compare its counters with every process\'s truth: drop --gateway (or drop --processes)');
}

/** A report file is written at the end of a run: check its folder now rather than lose the run to a bad path. */
export function checkOutputFile(file: string | undefined, flag: string): void {
  if (file === undefined) return;
  if (existsSync(file) && statSync(file).isDirectory()) throw new InputError(`${flag} must be a file name, but ${file} is a folder`);
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${flag}: the folder ${dir} does not exist; create it or choose another path`);
}

export function registerLoadCommands(program: Command): void {
  // `load merge` has flags of the same names as `load` (--run-id, --admin, --json): options are read
  // where they stand, so the ones after `merge` are merge's (the root too, or it hands them to load first).
  program.enablePositionalOptions();
  const load = program.command('load').enablePositionalOptions();
  load
    .description('Load-test a gateway with simulated agents or tunnels and check its counters against the harness\'s ground truth')
    .option('--profile <name>', `${PROFILES.join(' | ')}`, 'agents')
    .option('--agents <n>', 'agents profile: number of simulated agents', '20')
    .option('--connections <n>', 'churn/keepalive/idle: tunnels (or concurrent new-tunnel loops)', '50')
    .option('--duration <time>', 'how long the load runs (e.g. 30s, 2m)', '30s')
    .option('--ramp-up <time>', 'agents join linearly over this time', '0s')
    .option('--concurrency <n>', 'most agent cycles / tunnel openings in flight at once', '200')
    .option('--forbidden-rate <per-second>', 'CONNECTs per second to a forbidden host (known, expected rejections)', '0')
    .option('--error-rate <per-second>', 'CONNECTs per second to an allowed host whose upstream is down (known, expected errors)', '0')
    .option('--http-refusals <n>', 'at the end, send this many plain-HTTP GETs with autocannon (expected 405 refusals, no counter change)', '0')
    .option('--kb-per-upload <kb>', 'agents: data per agent per interval (sizing profile: 200)', '200')
    .option('--interval <time>', 'agents: time between uploads (sizing profile: 6s)', '6s')
    .option('--speed <factor>', 'agents: run intervals this many times faster than real time', '1')
    .option('--mix <weights>', 'agents: mix of windows, linux and ama (Azure Monitor Agent) by weight', 'windows=1,linux=1')
    .addOption(new Option('--behavior <model>', 'agents: behaviour model (default: omsagent for Linux agents, mma for Windows agents)').choices(BEHAVIORS))
    .option('--gateway <host:port>', 'load any CONNECT proxy instead of starting omsgw (it must route the fake cloud / bench hosts itself)')
    .option('--admin <url>', 'management API of --gateway, to compare its counters')
    .option('--target-port <port>', 'fixed loopback port for the fake cloud (agents) or the bench upstream, for routing an external --gateway there')
    .option('--seed <seed>', 'seed for agent identities and data', 'omsgw-load')
    .option('--shard <k/n>', 'run shard k of n (1-based, like jest --shard) of a distributed run: disjoint agents, seeds and source addresses; needs --run-id, --cloud and --gateway')
    .option('--run-id <id>', 'with --shard: the run the shards belong to (omsgw load merge joins one run)')
    .option('--cloud <lab-url>', 'agents upload to a running omsgw cloud (its lab API URL, e.g. http://127.0.0.1:9444) instead of one started in this process')
    .option('--workspace <id:key>', 'with --cloud: the workspace (one of the cloud\'s) the agents onboard to')
    .option('--publish <lab-url>', 'with --shard: POST the JSON result to this omsgw cloud\'s lab API (/_lab/load-results/<run-id>/<k>) for omsgw load merge --from')
    .option('--processes <n>', 'agents: spread the agents over this many agent processes (shards of this run, rounds in lockstep) for more than one core; the cloud stays in this process, the gateway is started as usual (default 1: all in this process)')
    .addOption(new Option('--coordinated', 'set by --processes for its agent processes (IPC with the parent)').hideHelp())
    .option('--json <file>', 'write the full report as JSON')
    .option('--report <file.html>', 'write a self-contained HTML report with SVG charts')
    .option('--quiet', 'no live progress lines', false)
    .option('--soak <time>', 'instead of a load profile: run omsgw under steady tunnel churn this long (e.g. 30m) and check that its memory and open file descriptors stay flat')
    .option('--soak-rate <per-second>', 'soak: new tunnels per second', '40')
    .addHelpText(
      'after',
      `
Exit status: 0 when every counter equals the harness's ground truth at every quiescent point,
no record was lost and no unexpected error happened; 1 otherwise; 2 for bad flags.

Examples:
  omsgw load --agents 600 --duration 2m --ramp-up 30s --forbidden-rate 2 --error-rate 1 --report load.html
  omsgw load --profile idle --connections 8000 --duration 20s --json idle.json
  omsgw load --profile churn --connections 32 --duration 15s
  omsgw load --agents 600 --duration 36s --processes 2      # two agent processes: more than one core for the simulator
  omsgw load --soak 30m --json soak.json      # memory and fds must stay flat (exit 1 if not)
  omsgw load --shard 1/3 --run-id r1 --cloud http://127.0.0.1:9444 --workspace <id:key> \
    --gateway 127.0.0.1:8080 --agents 300 --publish http://127.0.0.1:9444   # then: omsgw load merge --from ... (docs/deploy.md)
  omsgw load --profile keepalive --gateway 127.0.0.1:3128 --target-port 9443
      # any CONNECT proxy that sends load.omsgw-bench.invalid:443 to 127.0.0.1:9443 (no counters without --admin)`,
    )
    .action(async (opts, cmd) => {
      const profile = opts.profile as LoadProfile;
      if (opts.soak === undefined && !PROFILES.includes(profile)) throw new InputError(`--profile must be one of ${PROFILES.join(', ')}, got "${opts.profile}"`);
      const processes = parseProcesses(opts.processes);
      if (opts.soak === undefined) checkProcessesFlags(processes, opts);
      checkFlagsApply((key) => cmd.getOptionValueSource(key as never) === 'cli', opts);
      checkOutputFile(opts.json, '--json');
      checkOutputFile(opts.report, '--report');
      if (opts.soak !== undefined) return runSoakCommand(opts);
      const count = parseNumber(profile === 'agents' ? opts.agents : opts.connections, profile === 'agents' ? '--agents' : '--connections');
      if (opts.coordinated && opts.shard === undefined) throw new InputError('--coordinated is set by omsgw load --processes for its agent processes; run omsgw load --processes N instead');
      const coordinator = opts.coordinated ? new IpcCoordinator() : undefined;
      try {
        await runLoadCommand(opts, { profile, count, processes, coordinator });
      } finally {
        await coordinator?.close();
      }
    });
  registerLoadMergeCommand(load);
}

type LoadFlags = DistributedFlags & Record<'duration' | 'rampUp' | 'concurrency' | 'forbiddenRate' | 'errorRate' | 'httpRefusals' | 'kbPerUpload' | 'interval' | 'speed' | 'mix' | 'seed', string> & {
  behavior?: string;
  gateway?: string;
  admin?: string;
  targetPort?: string;
  json?: string;
  report?: string;
  quiet: boolean;
};

/** One load run from checked flags: in this process, or spread over agent processes (--processes N). */
async function runLoadCommand(opts: LoadFlags, r: { profile: LoadProfile; count: number; processes: number; coordinator?: IpcCoordinator }): Promise<void> {
  const { profile, count } = r;
  const dist = await openDistributed(opts);
  const options: LoadOptions = {
    profile,
    count,
    durationMs: parseDuration(opts.duration, '--duration'),
    rampUpMs: parseDuration(opts.rampUp, '--ramp-up'),
    concurrency: parseNumber(opts.concurrency, '--concurrency'),
    forbiddenRate: parseNumber(opts.forbiddenRate, '--forbidden-rate'),
    errorRate: parseNumber(opts.errorRate, '--error-rate'),
    httpRefusals: parseNumber(opts.httpRefusals, '--http-refusals'),
    kbPerUpload: parseNumber(opts.kbPerUpload, '--kb-per-upload'),
    intervalMs: parseDuration(opts.interval, '--interval'),
    speed: parseNumber(opts.speed, '--speed'),
    mix: parseMix(opts.mix),
    behavior: opts.behavior as AgentBehavior | undefined,
    gateway: opts.gateway ? parseHostPort(opts.gateway) : undefined,
    adminUrl: opts.admin,
    targetPort: opts.targetPort === undefined ? undefined : parseNumber(opts.targetPort, '--target-port'),
    seed: opts.seed,
    shard: dist.shard,
    cloudUrl: dist.remote?.lab.url,
    remote: dist.remote,
    onProgress: opts.quiet ? undefined : (line) => void process.stderr.write(line + '\n'),
    ...(r.processes > 1 ? { processes: r.processes } : {}),
    coordinator: r.coordinator,
  };
  const report = r.processes > 1 ? await runProcesses(options) : await runLoad(options);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  if (opts.report) writeFileSync(opts.report, renderLoadHtml(report));
  process.stdout.write(formatLoadReport(report) + '\n');
  if (!report.ok) process.exitCode = 1;
  if (dist.publish && dist.shard) {
    try {
      await publishResult(dist.publish, dist.shard.runId, dist.shard.index, report);
      process.stdout.write(`published shard ${dist.shard.index}/${dist.shard.count} of run ${dist.shard.runId} to ${dist.publish.url}/_lab/load-results/${dist.shard.runId}/${dist.shard.index}\n`);
    } catch (err) {
      process.stderr.write(`omsgw load: could not publish the result: ${(err as Error).message}${opts.json ? ` (it is in ${opts.json})` : ''}\n`);
      process.exitCode = 1;
    }
  }
}

interface DistributedFlags {
  shard?: string;
  runId?: string;
  cloud?: string;
  workspace?: string;
  publish?: string;
}

/**
 * --shard/--run-id/--cloud/--workspace/--publish, checked before the run: a shared cloud must be an
 * omsgw cloud that serves the workspace (its CA is fetched from GET /_lab/ca.pem).
 */
async function openDistributed(f: DistributedFlags): Promise<{ shard?: ShardSpec; remote?: LoadOptions['remote']; publish?: RemoteLab }> {
  if (f.runId !== undefined && f.shard === undefined) throw new InputError('--run-id names the run of a shard: give --shard k/n too');
  if (f.publish !== undefined && f.shard === undefined) throw new InputError('--publish sends a shard\'s result for omsgw load merge: give --shard k/n and --run-id too (or use --json)');
  if (f.workspace !== undefined && f.cloud === undefined) throw new InputError('--workspace chooses a workspace of a shared cloud: give --cloud <lab API URL> too');
  let shard: ShardSpec | undefined;
  if (f.shard !== undefined) {
    if (f.runId === undefined) throw new InputError('--shard needs --run-id <id>: the id that ties the shards of one run together');
    shard = { ...parseShard(f.shard), runId: parseRunId(f.runId) };
  }
  let remote: LoadOptions['remote'];
  if (f.cloud !== undefined) {
    if (f.workspace === undefined) throw new InputError('--cloud needs --workspace <id:key>: one of that cloud\'s workspaces (its --workspace)');
    const workspace = parseWorkspaceFlag(f.workspace);
    const lab = await openLab(f.cloud, '--cloud');
    if (!lab.info.workspaces.map((w) => w.toLowerCase()).includes(workspace.id)) throw new InputError(`--workspace ${workspace.id} is not served by the cloud at ${lab.url} (it serves ${lab.info.workspaces.join(', ')})`);
    remote = { lab, caCertPem: await labCaPem(lab, '--cloud'), workspace };
  }
  const publish = f.publish === undefined ? undefined : await openLab(f.publish, '--publish');
  return { shard, remote, publish };
}

interface SoakFlags {
  soak?: string;
  soakRate: string;
  gateway?: string;
  json?: string;
  quiet: boolean;
}

/** `omsgw load --soak`: our gateway as a child process under paced churn, sampled from /proc (reliability/soak.ts). */
async function runSoakCommand(opts: SoakFlags): Promise<void> {
  if (opts.gateway) throw new InputError('--soak measures a gateway process it starts itself (it reads its memory and fds from /proc); drop --gateway');
  const durationMs = parseDuration(opts.soak!, '--soak');
  const ratePerSecond = parseNumber(opts.soakRate, '--soak-rate');
  const { runSoak } = await import('../../reliability/soak.js');
  const report = await runSoak({
    durationMs,
    ratePerSecond,
    onSample: opts.quiet ? undefined : (s) => void process.stderr.write(`soak: RSS ${(s.rssBytes / 1048576).toFixed(1)} MB, fds ${s.fds}\n`),
  });
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(report.summary + '\n');
  if (!report.verdict.flat || report.load.errors > 0) process.exitCode = 1;
}
