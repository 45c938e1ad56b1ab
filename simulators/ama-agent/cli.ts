import { readFileSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { ScaledClock, systemClock, type Clock } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { bindRangeSize } from '../agent-core/cidr.js';
import { assertLedgerInvariant, sumSummaries, type LedgerSummary } from '../agent-core/ledger.js';
import { formatElapsed, formatLedger, parseDuration } from '../agent-core/report.js';
import { positiveInt, type FleetRunFlags } from '../agent-core/run-flags.js';
import { IMDS_TOKEN_FAULTS, type ImdsTokenFault } from '../../fake-oms-endpoints/ama/imds.js';
import type { AmaAgent } from './agent.js';
import { AmaFleet } from './fleet.js';
import type { AmaProxySettings } from './proxy-settings.js';

interface AmaFlags extends FleetRunFlags {
  proxyMode: 'none' | 'application';
  proxyAddress?: string;
  proxyAuth?: string;
  direct?: string;
  workspace: string;
  ca: string;
  region: string;
  imdsTokenFault?: ImdsTokenFault;
}

/** `--proxy-auth user:password` → auth "true" with those credentials; absent → anonymous. */
export function proxySettingsFromFlags(f: Pick<AmaFlags, 'proxyMode' | 'proxyAddress' | 'proxyAuth'>): AmaProxySettings {
  const s: AmaProxySettings = { mode: f.proxyMode };
  if (f.proxyAddress !== undefined) s.address = f.proxyAddress;
  if (f.proxyAuth !== undefined) {
    const i = f.proxyAuth.indexOf(':');
    if (i < 1) throw new InputError('--proxy-auth must be user:password (Basic authentication to the proxy); leave it out for anonymous');
    Object.assign(s, { auth: 'true', username: f.proxyAuth.slice(0, i), password: f.proxyAuth.slice(i + 1) });
  } else if (f.proxyMode === 'application') s.auth = 'false';
  return s;
}

function parseDirect(text: string | undefined): { host: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new InputError(`--direct must be a loopback host:port (the fake cloud's port), got "${text}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Validates every flag (InputError → exit 2) and builds the agents. */
export function amaAgentsFromFlags(f: AmaFlags): { agents: AmaAgent[]; durationMs: number; speed: number; seed: string } {
  let caPem: string;
  try {
    caPem = readFileSync(f.ca, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read --ca ${f.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (give the lab CA file, e.g. the ca.pem that \`omsgw cloud\` prints)`);
  }
  if (!caPem.includes('-----BEGIN CERTIFICATE-----')) throw new InputError(`--ca ${f.ca} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  const count = positiveInt(f.count, '--count', 10_000);
  if (f.bindRange !== undefined && count > bindRangeSize(f.bindRange)) throw new InputError(`--count ${count} is larger than --bind-range ${f.bindRange}: use a larger range or fewer agents`);
  const durationMs = parseDuration(f.duration);
  const speed = Number(f.speed);
  if (!/^\d+(\.\d+)?$/.test(f.speed.trim()) || !(speed > 0) || speed > 100_000) throw new InputError(`--speed must be a number greater than 0 (at most 100000), got "${f.speed}"`);
  const queueLimit = positiveInt(f.queueLimit, '--queue-limit', 10_000_000);
  const seed = f.seed ?? String(Math.floor(Math.random() * 1e9));
  const clock: Clock = f.once ? systemClock : new ScaledClock(speed);
  const proxy = proxySettingsFromFlags(f);
  const direct = parseDirect(f.direct);
  if (f.proxyMode === 'application' && direct) throw new InputError('--direct is only for --proxy-mode none (with a proxy, the proxy reaches the cloud)');
  const logger = f.verbose ? (e: { time: string; level: string; hostname: string; message: string }) => process.stderr.write(`${e.time} ${e.level.padEnd(7)} ama ${e.hostname}: ${e.message}\n`) : undefined;
  // The agents validate the rest (proxy settings, workspace, region, bind range) and throw InputError.
  const fleet = new AmaFleet({ count, bindRange: f.bindRange, workspaceId: f.workspace, proxy, direct, caPem, seed, region: f.region, clock, dateClock: systemClock, queueLimit, imdsTokenFault: f.imdsTokenFault, logger });
  return { agents: fleet.agents, durationMs, speed, seed };
}

function ledger(agents: AmaAgent[]): LedgerSummary {
  const s = sumSummaries(agents.map((a) => a.summary()));
  try {
    assertLedgerInvariant(s, 'ama agents');
  } catch (err) {
    process.stderr.write(`omsgw: ledger does not balance: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
  return s;
}

async function run(f: AmaFlags): Promise<void> {
  const { agents, durationMs, speed, seed } = amaAgentsFromFlags(f);
  const where = f.proxyMode === 'none' ? `no proxy (direct to ${f.direct})` : `proxy ${f.proxyAddress}${f.proxyAuth ? ' (Basic)' : ''}`;
  process.stderr.write(`omsgw agent ama: ${agents.length} agent(s), seed ${seed}, ${where}${f.once ? '; configuring and sending one batch' : `, for ${formatElapsed(durationMs)} at ${speed}x`}\n`);
  const failures: { agent: AmaAgent; error: Error }[] = [];
  try {
    if (f.once) {
      await Promise.all(agents.map((a) => a.runOnce().catch((error: Error) => failures.push({ agent: a, error }))));
    } else {
      let stop!: () => void;
      const stopped = new Promise<void>((r) => (stop = r));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = setTimeout(stop, durationMs);
      for (const a of agents) a.start();
      await stopped;
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  } finally {
    await Promise.all(agents.map((a) => a.close()));
  }
  const summary = ledger(agents);
  if (f.json) {
    process.stdout.write(JSON.stringify({ ok: failures.length === 0, status: agents.map((a) => a.status()), ledger: summary, failures: failures.map((x) => ({ agent: x.agent.machine.name, agentId: x.agent.agentId, phase: x.agent.status().lastFailure?.phase, error: x.error.message })) }, null, 2) + '\n');
  } else {
    for (const a of agents) {
      const s = a.status();
      const failed = failures.find((x) => x.agent === a);
      process.stdout.write(`${s.hostname} (${s.agentId})${s.bindAddress ? ` from ${s.bindAddress}` : ''}: ${failed ? `FAILED in phase ${s.lastFailure?.phase}: ${failed.error.message}` : `${s.configured ? 'configured' : 'not configured'}, ${s.delivered} delivered, ${s.queued} queued${s.lastFailure ? `; last failure (${s.lastFailure.phase}): ${s.lastFailure.message}` : ''}`}\n`);
    }
    for (const line of formatLedger('ledger (ama)', summary)) process.stdout.write(line + '\n');
  }
  if (failures.length) {
    process.stderr.write(`omsgw: ${failures.length} of ${agents.length} agent(s) failed: ${failures[0]!.error.message}\n`);
    process.exitCode = 1;
  }
}

export function addAmaAgentCommand(parent: Command): void {
  parent
    .command('ama')
    .description('Run simulated Azure Monitor Agents (managed-identity token from a loopback IMDS, configuration from the handler, ingestion tokens, uploads)')
    .addOption(new Option('--proxy-mode <mode>', 'the agent\'s proxy "mode" setting').choices(['none', 'application'] as const).makeOptionMandatory())
    .option('--proxy-address <url>', 'the proxy "address" setting, http://host:port (with --proxy-mode application)')
    .option('--proxy-auth <user:password>', 'Basic authentication to the proxy (auth "true" with these protected settings); default anonymous')
    .option('--direct <host:port>', 'with --proxy-mode none: where this lab machine reaches Azure (the fake cloud port)')
    .requiredOption('--workspace <id>', 'workspace the machine\'s data collection rule targets (GUID)')
    .requiredOption('--ca <file>', 'lab CA certificate (PEM); the only CA the agents trust')
    .option('--region <name>', 'Azure region of the machines', 'eastus')
    .option('--count <n>', 'number of agents (each with its own IMDS on loopback)', '1')
    .option('--bind-range <cidr>', 'loopback range for source addresses, one per agent (e.g. 127.0.2.0/24)')
    .option('--duration <time>', 'how long to run, in real time (e.g. 30s, 10m)', '1m')
    .option('--speed <x>', "how much faster than real time the agents' schedules run", '60')
    .option('--seed <s>', 'seed for identities and data (default: random, printed)')
    .option('--once', 'configure, send one batch, exit 0 on success or 1 with the failing phase')
    .option('--queue-limit <n>', 'records each agent buffers before dropping new ones', '10000')
    .addOption(new Option('--imds-token-fault <fault>', 'make the local IMDS hand out bad tokens (lab fault)').choices(IMDS_TOKEN_FAULTS))
    .option('--verbose', 'print every agent log line (on stderr)')
    .option('--json', 'print the final status and ledger as JSON')
    .addHelpText(
      'after',
      `
Examples:
  omsgw agent ama --proxy-mode application --proxy-address http://127.0.0.1:8080 \\
      --workspace <id> --ca .omsgw/cloud/ca.pem --once
  omsgw agent ama --proxy-mode application --proxy-address http://127.0.0.1:8080 --proxy-auth svc:secret \\
      --workspace <id> --ca ca.pem --count 20 --bind-range 127.0.2.0/24 --duration 2m

Exit status: 0 done, 1 an agent failed (--once; the phase is printed) or the ledger does not
balance, 2 invalid flags.`,
    )
    .action(async (flags) => run(flags as unknown as AmaFlags));
}
