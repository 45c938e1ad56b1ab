import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { GatewayStartStep, GatewayKillStep, GatewayRestartStep, GatewayStopStep, GatewayReloadStep } from '../definitions.js';
import { describeGateway, type GatewayState, type Lab, type RunningGateway } from '../lab.js';
import { adminRequest } from '../admin-client.js';
import { formatMs } from '../duration.js';
import { counterValue } from '../expectations/counters.js';
import { DEFAULT_GATEWAY } from '../gateway-names.js';
import { failed, passed, pollUntil, type StepImpl } from '../step-types.js';
import { writeAllowlist } from './allowlist.js';

/** Command-line flags for `omsgw gateway` from a gateway.start step (see docs/gateway.md). */
export function gatewayArgs(step: GatewayStartStep, lab: Lab, gw: GatewayState): string[] {
  const s = step.settings ?? {};
  const args = ['--dir', gw.dir, '--admin-port', '0', '--quiet'];
  if (step.config) {
    const file = isAbsolute(step.config) ? step.config : resolve(dirname(lab.scenario.file), step.config);
    args.push('--config', file);
  }
  if (s.listenPort !== undefined) args.push('--listen-port', String(s.listenPort));
  else args.push('--listen-port', String(gw.proxyPort ?? 0));
  const upstream = s.upstream ?? 'host-map';
  if (!lab.cloud && (upstream === 'host-map' || upstream === 'relay')) {
    throw new Error('start the cloud (cloud.start) before the gateway, or give settings.upstream explicitly');
  }
  if (upstream === 'host-map') for (const e of lab.cloud!.hostMapEntries()) args.push('--host-map', e);
  else if (upstream === 'relay') args.push('--relay-proxy', withCredentials(lab.cloud!.proxyUrl, s.relayAuth));
  else if ('relay' in upstream) args.push('--relay-proxy', withCredentials(upstream.relay, s.relayAuth));
  else for (const e of upstream.hostMap) args.push('--host-map', e);
  if (s.requireProxyAuth) args.push('--proxy-auth', `${s.requireProxyAuth.username}:${s.requireProxyAuth.password}`);
  if (s.clock === 'manual') args.push('--clock', `manual=${new Date(lab.clock.now()).toISOString()}`);
  args.push(...(step.args ?? []));
  return args;
}

function withCredentials(url: string, auth?: { username: string; password: string }): string {
  if (!auth) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(auth.username);
  u.password = encodeURIComponent(auth.password);
  return u.toString().replace(/\/$/, '');
}

/** Settings only gateway.json holds (no flag): written into the gateway's folder. */
function writeConfigSettings(dir: string, step: GatewayStartStep): void {
  if (step.settings?.tls === undefined) return;
  const file = join(dir, 'gateway.json');
  const config = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  config.tls = { ...((config.tls as Record<string, unknown> | undefined) ?? {}), ...step.settings.tls };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

/** "gateway pid 1 ..." for the default gateway, "gw1 pid 1 ..." for a named one. */
function label(gw: GatewayState): string {
  return gw.name === DEFAULT_GATEWAY ? 'gateway' : gw.name;
}

async function spawn(lab: Lab, gw: GatewayState, baseArgs: string[], manualClock: boolean): Promise<string> {
  const generation = gw.generation + 1;
  const args = withFlag(baseArgs, '--event-log', lab.eventLogFile(gw.name, generation));
  gw.generation = generation;
  let handle;
  try {
    handle = await lab.parts.spawnGateway(args);
  } catch (err) {
    // A gateway that refuses its configuration logs 401 to its event log before exiting.
    lab.events.startedWithoutApi(gw.name, generation);
    lab.events.readFile(lab.eventLogFile(gw.name, generation), gw.name, generation);
    throw err;
  }
  Object.assign(gw, { handle, args: baseArgs, manualClock, proxyPort: handle.proxyPort, ended: undefined });
  if (handle.adminUrl) lab.events.attach(gw.name, handle.adminUrl, generation);
  await lab.events.poll();
  return `${label(gw)} pid ${handle.pid} proxy 127.0.0.1:${handle.proxyPort} (generation ${generation})`;
}

/** Stops a running gateway, then reads the rest of its events (e.g. 102, or all of them after a SIGKILL) from its event log file. */
async function stop(lab: Lab, gw: RunningGateway, how: 'stop' | 'kill', signal: NodeJS.Signals = 'SIGKILL'): Promise<string> {
  await lab.events.poll().catch(() => undefined);
  // The counters cannot be asked for after the process is gone: keep the last ones for the report.
  gw.lastCounters = ((await adminRequest(gw.handle.adminUrl, 'GET', '/api/counters').catch(() => undefined)) as Record<string, unknown> | undefined) ?? gw.lastCounters;
  if (how === 'stop') await gw.handle.stop();
  else {
    gw.handle.kill(signal);
    await gw.handle.exited;
  }
  lab.events.detach(gw.name);
  lab.events.readFile(lab.eventLogFile(gw.name, gw.generation), gw.name, gw.generation);
  const handle = gw.handle;
  (gw as GatewayState).handle = undefined;
  gw.ended = how === 'stop' ? 'stopped' : 'killed';
  const exit = await handle.exited;
  return `${label(gw)} pid ${handle.pid} ${how === 'stop' ? 'stopped' : `killed (${signal})`}, exit ${exit.code ?? exit.signal}`;
}

/** Polls the gateway's counters until tunnels are open through it (a kill under load). */
async function waitForOpenTunnels(gw: RunningGateway, timeoutMs: number): Promise<number> {
  const result = await pollUntil(timeoutMs, async () => {
    const c = (await adminRequest(gw.handle.adminUrl, 'GET', '/api/counters').catch(() => undefined)) as Record<string, unknown> | undefined;
    if (c) gw.lastCounters = c;
    const open = c ? (counterValue(c, 'tunnelsActive') ?? 0) : 0;
    return { done: open > 0, open };
  }, 10);
  if (!result.done) {
    throw new Error(`${describeGateway(gw)} had no open tunnel within ${formatMs(timeoutMs)} (tunnelsActive stayed 0): nothing to kill under load; make the agents upload first (e.g. clock.advance) or slow the cloud (cloud.fault-set latency)`);
  }
  return result.open;
}

const KILL_UNDER_LOAD_TIMEOUT_MS = 10_000;

const named = (name: string | undefined) => (name ? `gateway ${name}` : 'the gateway');

export const gatewayStart: StepImpl<GatewayStartStep> = {
  needs: ['own-gateway'],
  explain: (s) => `start ${named(s.name)}${s.allowlist === 'default' ? ' with the default allowlist' : ''}${s.expectFailure ? ' (expected to refuse)' : ''}`,
  async run(step, lab) {
    const gw = lab.gatewayState(step.name);
    if (gw.handle) throw new Error(`${describeGateway(gw)} is already running; stop it first or use gateway.restart`);
    if (!existsSync(join(gw.dir, 'allowedlist_server.txt'))) {
      await lab.parts.initGateway(gw.dir, lab.workspace().id);
    }
    if (Array.isArray(step.allowlist)) writeAllowlist(gw.dir, 'server', step.allowlist);
    writeConfigSettings(gw.dir, step);
    if (step.settings?.clientAllowlist) writeAllowlist(gw.dir, 'client', step.settings.clientAllowlist);
    const args = gatewayArgs(step, lab, gw);
    const manualClock = step.settings?.clock === 'manual';
    if (step.expectFailure) {
      try {
        await spawn(lab, gw, args, manualClock);
      } catch (err) {
        const reason = (err as Error).message.split('\n').filter(Boolean).slice(-1)[0] ?? '';
        // Refusing a bad configuration is exit status 2; any other ending (a crash, a signal, no
        // readiness in time: code null) is not the refusal asked for.
        if (err && typeof err === 'object' && 'code' in err && err.code !== 2) {
          return failed(`${describeGateway(gw)} did not start, but not by refusing its configuration (exit status 2): exit status ${String(err.code)}: ${reason}`);
        }
        return passed(`${describeGateway(gw)} refused to start, as expected: ${reason}`);
      }
      return failed(`${describeGateway(gw)} started although the step expected it to refuse`);
    }
    return passed(await spawn(lab, gw, args, manualClock));
  },
};

export const gatewayStop: StepImpl<GatewayStopStep> = {
  needs: ['own-gateway'],
  explain: (s) => `stop ${named(s.name)} (service stop)`,
  run: async (s, lab) => passed(await stop(lab, lab.runningGateway(s.name), 'stop')),
};

export const gatewayKill: StepImpl<GatewayKillStep> = {
  needs: ['own-gateway'],
  explain: (s) => `kill ${named(s.name)} process (${s.signal ?? 'SIGKILL'})${s.whenTunnelsOpen ? ' while it carries tunnels' : ''}`,
  async run(s, lab) {
    const gw = lab.runningGateway(s.name);
    const open = s.whenTunnelsOpen ? await waitForOpenTunnels(gw, KILL_UNDER_LOAD_TIMEOUT_MS) : undefined;
    const done = await stop(lab, gw, 'kill', s.signal ?? 'SIGKILL');
    return passed(open === undefined ? done : `${done}; ${open} tunnel(s) were open`);
  },
};

export const gatewayRestart: StepImpl<GatewayRestartStep> = {
  needs: ['own-gateway'],
  explain: (s) => `restart ${named(s.name)} (same proxy port; re-reads its allowlist files)`,
  async run(s, lab) {
    const gw = lab.gatewayNamed(s.name);
    const args = gw.args;
    if (!args) throw new Error(`${describeGateway(gw)} never started successfully`);
    const manual = gw.manualClock;
    const adminPort = gw.handle?.adminPort;
    const stopped = gw.handle ? await stop(lab, gw as RunningGateway, 'stop') : 'was not running';
    // Same ports, so the agents' proxy URL and an open web console stay valid; the clock starts
    // where the lab clock is now.
    let again = withFlag(withFlag(args, '--listen-port', String(gw.proxyPort ?? 0)), '--clock', manual ? `manual=${new Date(lab.clock.now()).toISOString()}` : undefined);
    again = withFlag(again, '--admin-port', adminPort !== undefined ? String(adminPort) : undefined);
    return passed(`${stopped}; ${await spawn(lab, gw, again, manual)}`);
  },
};

export const gatewayReload: StepImpl<GatewayReloadStep> = {
  needs: ['own-gateway', 'management-api'],
  explain: (s) => `ask ${named(s.name)} to re-read its allowlist files now (POST /api/reload)`,
  async run(s, lab) {
    const answer = await adminRequest(lab.runningGateway(s.name).handle.adminUrl, 'POST', '/api/reload');
    return passed('reloaded', answer ? [JSON.stringify(answer)] : undefined);
  },
};

function withFlag(args: string[], flag: string, value: string | undefined): string[] {
  if (value === undefined) return args;
  const out = [...args];
  const i = out.indexOf(flag);
  if (i >= 0) out[i + 1] = value;
  else out.push(flag, value);
  return out;
}
