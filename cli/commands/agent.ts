import { readFileSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { ScaledClock, systemClock } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { ensureStateDir } from '../../lib/state-dir.js';
import {
  bindRangeSize,
  createFleet,
  decodeSharedKey,
  formatElapsed,
  formatFleetStatus,
  formatLedger,
  MAX_TIMER_MS,
  parseBindRange,
  parseDuration,
  parseProxyString,
  sumSummaries,
  validateWorkspaceId,
  BEHAVIORS,
  type AgentBehavior,
  type AgentLogEntry,
  type AgentOs,
  type Fleet,
  type LedgerSummary,
} from '../../simulators/agent-core/index.js';
import { positiveInt, type FleetRunFlags } from '../../simulators/agent-core/run-flags.js';
import { addAmaAgentCommand } from '../../simulators/ama-agent/cli.js';

interface AgentFlags extends FleetRunFlags {
  proxy: string;
  workspace: string;
  key: string;
  ca: string;
  tlsMinVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  tlsMaxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  sni?: string;
  behavior?: AgentBehavior;
  keyCache?: string;
}

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

function readCa(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read --ca ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (give the lab CA file, e.g. the ca.pem that \`omsgw cloud\` prints)`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new InputError(`--ca ${file} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  return pem;
}

/** Validates every flag up front (InputError → exit 2) and builds the fleet. */
export function fleetFromFlags(os: AgentOs, f: AgentFlags): { fleet: Fleet; count: number; durationMs: number; speed: number; seed: string } {
  parseProxyString(f.proxy);
  validateWorkspaceId(f.workspace);
  decodeSharedKey(f.key);
  const caPem = readCa(f.ca);
  const count = positiveInt(f.count, '--count', 10_000);
  if (f.bindRange !== undefined) {
    parseBindRange(f.bindRange);
    const size = bindRangeSize(f.bindRange);
    if (count > size) throw new InputError(`--count ${count} is larger than --bind-range ${f.bindRange}, which has ${size} usable addresses: use a larger range or fewer agents`);
  }
  const durationMs = parseDuration(f.duration);
  // setTimeout fires at once (with only a warning) beyond this, which would end the run immediately.
  if (durationMs > MAX_TIMER_MS) throw new InputError(`--duration ${f.duration} is too long: at most 596h (the longest timer node can set)`);
  const speed = Number(f.speed);
  if (!/^\d+(\.\d+)?$/.test(f.speed.trim()) || !(speed > 0) || speed > 100_000) throw new InputError(`--speed must be a number greater than 0 (at most 100000), got "${f.speed}"`);
  const queueLimit = positiveInt(f.queueLimit, '--queue-limit', 10_000_000);
  const seed = f.seed ?? String(Math.floor(Math.random() * 1e9));
  const clock = f.once ? systemClock : new ScaledClock(speed);
  const logger = f.verbose ? (e: AgentLogEntry) => process.stderr.write(`${e.time} ${e.level.padEnd(7)} ${e.os} ${e.hostname}: ${e.message}\n`) : undefined;
  const fleet = createFleet({
    count,
    os,
    bindRange: f.bindRange,
    workspaceId: f.workspace,
    workspaceKey: f.key,
    proxy: f.proxy,
    caPem,
    seed,
    clock,
    dateClock: systemClock,
    tls: { minVersion: f.tlsMinVersion, maxVersion: f.tlsMaxVersion, servername: f.sni },
    queueLimit,
    behavior: f.behavior,
    keyCacheDir: f.keyCache === undefined ? undefined : ensureStateDir(f.keyCache, '--key-cache'),
    logger,
  });
  return { fleet, count, durationMs, speed, seed };
}

/** The fleet's ledger; when it does not balance, says so on stderr and sets exit status 1. */
function balancedLedger(fleet: Fleet): LedgerSummary {
  try {
    return fleet.summary();
  } catch (err) {
    process.stderr.write(`omsgw: ledger does not balance: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return sumSummaries(fleet.agents.map((a) => a.ledger.summary()));
  }
}

async function runOnce(os: AgentOs, f: AgentFlags): Promise<void> {
  const { fleet, count, seed } = fleetFromFlags(os, f);
  process.stderr.write(`omsgw agent ${os}: ${count} agent(s), seed ${seed}, proxy ${parseProxyString(f.proxy).display}; onboarding and sending one batch\n`);
  try {
    const failures = await fleet.runOnce();
    const summary = balancedLedger(fleet);
    if (f.json) {
      process.stdout.write(JSON.stringify({ ok: failures.length === 0, status: fleet.status(), ledger: summary, failures: failures.map((x) => ({ agent: x.agent.identity.hostname, agentId: x.agent.agentId, error: x.error.message })) }, null, 2) + '\n');
    } else {
      for (const a of fleet.agents) {
        const failure = failures.find((x) => x.agent === a);
        const s = a.status();
        process.stdout.write(`${a.identity.hostname} (${a.agentId})${a.bindAddress ? ` from ${a.bindAddress}` : ''}: ${failure ? `FAILED: ${failure.error.message}` : `ok, ${s.delivered} records delivered`}\n`);
      }
      for (const line of formatLedger('ledger', summary)) process.stdout.write(line + '\n');
    }
    if (failures.length) {
      process.stderr.write(`omsgw: ${failures.length} of ${count} agent(s) failed: ${failures[0]!.error.message}\n`);
      process.exitCode = 1;
    }
  } finally {
    await fleet.close();
  }
}

async function runLive(os: AgentOs, f: AgentFlags): Promise<void> {
  const { fleet, count, durationMs, speed, seed } = fleetFromFlags(os, f);
  const tty = process.stdout.isTTY === true && !f.verbose && !f.json;
  process.stderr.write(`omsgw agent ${os}: ${count} agent(s), seed ${seed}, proxy ${parseProxyString(f.proxy).display}, for ${formatElapsed(durationMs)} at ${speed}x (Ctrl-C stops early)\n`);
  const started = Date.now();
  let printed = 0;
  let lastPlain = 0;
  const render = (final = false) => {
    const lines = formatFleetStatus(fleet.status(), formatElapsed(Date.now() - started));
    if (tty) {
      if (printed) process.stdout.write(`\x1b[${printed}A`);
      for (const l of lines) process.stdout.write(`\x1b[2K${l}\n`);
      for (let i = lines.length; i < printed; i++) process.stdout.write('\x1b[2K\n');
      printed = Math.max(printed, lines.length);
    } else if (!f.json && (final || Date.now() - lastPlain >= 5000)) {
      lastPlain = Date.now();
      for (const l of lines) process.stdout.write(l + '\n');
    }
  };
  let stop!: () => void;
  let stopRequested = false;
  const stopped = new Promise<void>((r) => {
    stop = () => {
      stopRequested = true;
      r();
    };
  });
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ticker = setInterval(() => render(), tty ? 500 : 1000);
  let timer: NodeJS.Timeout | undefined;
  try {
    // The duration counts from when every agent has its certificate (key generation can take seconds).
    await Promise.race([fleet.prepare(), stopped]);
    // Ctrl-C while certificates were being made: do not start agents only to close them.
    if (!stopRequested) {
      timer = setTimeout(stop, durationMs);
      fleet.start();
      await stopped;
    }
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await fleet.close();
  }
  render(true);
  const summary = balancedLedger(fleet);
  if (f.json) {
    process.stdout.write(JSON.stringify({ status: fleet.status(), ledger: summary }, null, 2) + '\n');
    return;
  }
  for (const o of ['windows', 'linux'] as const) {
    const agents = fleet.agents.filter((a) => a.os === o);
    if (agents.length) for (const line of formatLedger(`final ledger (${o})`, sumSummaries(agents.map((a) => a.ledger.summary())))) process.stdout.write(line + '\n');
  }
}

function addAgentCommand(parent: Command, os: AgentOs): void {
  const label = os === 'linux' ? 'Linux agents (omsagent: LinuxAgentTopologyRequest, automation agent service, LINUX_*_BLOB data)' : 'Windows agents (MMA: AgentTopologyRequest, event and perf data)';
  parent
    .command(os)
    .description(`Run simulated ${label} through a CONNECT proxy`)
    .requiredOption('--proxy <url>', 'proxy as the agent takes it: [http://][user:pass@]host[:port]')
    .requiredOption('--workspace <id>', 'workspace id (GUID)')
    .requiredOption('--key <key>', 'workspace shared key (base64)')
    .requiredOption('--ca <file>', 'lab CA certificate (PEM); the only CA the agents trust')
    .option('--count <n>', 'number of agents', '1')
    .option('--bind-range <cidr>', 'loopback range for source addresses, one per agent (e.g. 127.0.1.0/24)')
    .option('--duration <time>', 'how long to run, in real time, once the agents have their certificates (e.g. 30s, 10m)', '1m')
    .option('--speed <x>', 'how much faster than real time the agents\' schedules run', '60')
    .option('--seed <s>', 'seed for identities and data (default: random, printed)')
    .option('--once', 'onboard, send one batch, exit 0 on success or 1 with the agent\'s error')
    .addOption(new Option('--tls-min-version <v>', 'lowest TLS version offered').choices(TLS_VERSIONS))
    .addOption(new Option('--tls-max-version <v>', 'highest TLS version offered (default TLSv1.2, like the 2016 agents)').choices(TLS_VERSIONS))
    .option('--sni <name>', 'send this SNI instead of the target host name')
    .option('--queue-limit <n>', 'records each agent buffers before dropping new ones', '10000')
    .addOption(new Option('--behavior <model>', 'how the agents buffer, retry and drop (default: omsagent for linux, mma for windows; ideal honours Retry-After and never gives up)').choices(BEHAVIORS))
    .option('--key-cache <dir>', 'keep the generated RSA keys here and reuse them next time')
    .option('--verbose', 'print every agent log line (on stderr)')
    .option('--json', 'print the final status and ledger as JSON')
    .addHelpText(
      'after',
      `
Examples:
  omsgw agent ${os} --proxy http://127.0.0.1:8080 --workspace 00000000-1111-2222-3333-444444444444 \\
      --key "$WS_KEY" --ca .omsgw/cloud/ca.pem --once
  omsgw agent ${os} --proxy 127.0.0.1:8080 --workspace <id> --key <key> --ca ca.pem \\
      --count 50 --bind-range 127.0.1.0/24 --duration 2m --speed 60 --seed 7

--duration is real time; the agents' schedules (collection every 60 s, heartbeats) run --speed
times faster. Exit status: 0 done, 1 an agent failed (--once) or the ledger does not balance,
2 invalid flags.`,
    )
    .action(async (flags) => {
      const f = flags as unknown as AgentFlags;
      if (f.once) await runOnce(os, f);
      else await runLive(os, f);
    });
}

export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('Run simulated OMS agents (Windows MMA-like, Linux omsagent-like, Azure Monitor Agent) through a gateway');
  addAgentCommand(agent as unknown as Command, 'windows');
  addAgentCommand(agent as unknown as Command, 'linux');
  addAmaAgentCommand(agent as unknown as Command);
}
