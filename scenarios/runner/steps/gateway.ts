import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { GatewayStartStep, GatewayKillStep, GatewayRestartStep, GatewayStopStep, GatewayReloadStep } from '../definitions.js';
import type { Lab } from '../lab.js';
import { adminRequest } from '../admin-client.js';
import { failed, passed, type StepImpl } from '../step-types.js';
import { writeAllowlist } from './allowlist.js';

/** Command-line flags for `omsgw gateway` from a gateway.start step (see docs/gateway.md). */
export function gatewayArgs(step: GatewayStartStep, lab: Lab): string[] {
  const s = step.settings ?? {};
  const args = ['--dir', lab.gatewayDir, '--admin-port', '0', '--quiet'];
  if (step.config) {
    const file = isAbsolute(step.config) ? step.config : resolve(dirname(lab.scenario.file), step.config);
    args.push('--config', file);
  }
  if (s.listenPort !== undefined) args.push('--listen-port', String(s.listenPort));
  else args.push('--listen-port', String(lab.proxyPort ?? 0));
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

/** Settings only gateway.json holds (no flag): written into the lab's gateway folder. */
function writeConfigSettings(lab: Lab, step: GatewayStartStep): void {
  if (step.settings?.allowTls13 === undefined) return;
  const file = join(lab.gatewayDir, 'gateway.json');
  const config = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  config.tls = { ...((config.tls as Record<string, unknown> | undefined) ?? {}), allowTls13: step.settings.allowTls13 };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

async function spawn(lab: Lab, baseArgs: string[], manualClock: boolean): Promise<string> {
  const generation = lab.generation + 1;
  const args = withFlag(baseArgs, '--event-log', lab.eventLogFile(generation));
  lab.generation = generation;
  let handle;
  try {
    handle = await lab.parts.spawnGateway(args);
  } catch (err) {
    // A gateway that refuses its configuration logs 401 to its event log before exiting.
    lab.events.startedWithoutApi(generation);
    lab.events.readFile(lab.eventLogFile(generation), generation);
    throw err;
  }
  lab.gateway = { handle, generation, args: baseArgs, manualClock };
  lab.proxyPort = handle.proxyPort;
  if (handle.adminUrl) lab.events.attach(handle.adminUrl, generation);
  await lab.events.poll();
  return `gateway pid ${handle.pid} proxy 127.0.0.1:${handle.proxyPort} (generation ${generation})`;
}

/** Stops the running gateway, then reads the rest of its events (e.g. 102) from its event log file. */
async function stop(lab: Lab, how: 'stop' | 'kill', signal: NodeJS.Signals = 'SIGKILL'): Promise<string> {
  const gw = lab.gateway;
  if (!gw) throw new Error('the gateway is not running');
  await lab.events.poll().catch(() => undefined);
  if (how === 'stop') await gw.handle.stop();
  else {
    gw.handle.kill(signal);
    await gw.handle.exited;
  }
  lab.events.detach();
  lab.events.readFile(lab.eventLogFile(gw.generation), gw.generation);
  lab.gateway = undefined;
  const exit = await gw.handle.exited;
  return `gateway pid ${gw.handle.pid} ${how === 'stop' ? 'stopped' : `killed (${signal})`}, exit ${exit.code ?? exit.signal}`;
}

export const gatewayStart: StepImpl<GatewayStartStep> = {
  needs: ['own-gateway'],
  explain: (s) => `start the gateway${s.allowlist === 'default' ? ' with the default allowlist' : ''}${s.expectFailure ? ' (expected to refuse)' : ''}`,
  async run(step, lab) {
    if (lab.gateway) throw new Error('the gateway is already running; stop it first or use gateway.restart');
    if (!existsSync(join(lab.gatewayDir, 'allowedlist_server.txt'))) {
      await lab.parts.initGateway(lab.gatewayDir, lab.workspace().id);
    }
    if (Array.isArray(step.allowlist)) writeAllowlist(lab, 'server', step.allowlist);
    writeConfigSettings(lab, step);
    if (step.settings?.clientAllowlist) writeAllowlist(lab, 'client', step.settings.clientAllowlist);
    const args = gatewayArgs(step, lab);
    const manualClock = step.settings?.clock === 'manual';
    if (step.expectFailure) {
      try {
        await spawn(lab, args, manualClock);
      } catch (err) {
        return passed(`the gateway refused to start, as expected: ${(err as Error).message.split('\n').filter(Boolean).slice(-1)[0] ?? ''}`);
      }
      return failed('the gateway started although the step expected it to refuse');
    }
    lab.lastGatewayArgs = args;
    lab.lastGatewayManualClock = manualClock;
    return passed(await spawn(lab, args, manualClock));
  },
};

export const gatewayStop: StepImpl<GatewayStopStep> = {
  needs: ['own-gateway'],
  explain: () => 'stop the gateway (service stop)',
  run: async (_s, lab) => passed(await stop(lab, 'stop')),
};

export const gatewayKill: StepImpl<GatewayKillStep> = {
  needs: ['own-gateway'],
  explain: (s) => `kill the gateway process (${s.signal ?? 'SIGKILL'})`,
  run: async (s, lab) => passed(await stop(lab, 'kill', s.signal ?? 'SIGKILL')),
};

export const gatewayRestart: StepImpl<GatewayRestartStep> = {
  needs: ['own-gateway'],
  explain: () => 'restart the gateway (same proxy port; re-reads its allowlist files)',
  async run(_s, lab) {
    const args = lab.gateway?.args ?? lab.lastGatewayArgs;
    if (!args) throw new Error('the gateway was never started');
    const manual = lab.gateway?.manualClock ?? lab.lastGatewayManualClock;
    const stopped = lab.gateway ? await stop(lab, 'stop') : 'was not running';
    // Same port, so the agents' proxy URL stays valid; the clock starts where the lab clock is now.
    const again = withFlag(withFlag(args, '--listen-port', String(lab.proxyPort ?? 0)), '--clock', manual ? `manual=${new Date(lab.clock.now()).toISOString()}` : undefined);
    return passed(`${stopped}; ${await spawn(lab, again, manual)}`);
  },
};

/** Also used to start again after a stop (gateway.start with no changes would re-init). */
export const gatewayReload: StepImpl<GatewayReloadStep> = {
  needs: ['own-gateway', 'management-api'],
  explain: () => 'ask the running gateway to re-read its allowlist files now (POST /api/reload)',
  async run(_s, lab) {
    const answer = await adminRequest(lab.adminUrl, 'POST', '/api/reload');
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
