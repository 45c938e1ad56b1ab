import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { InputError } from '../../lib/errors.js';
import { workspaceHostnames } from '../../fake-oms-endpoints/hosts.js';
import type { ExpectEventsStep, LoadedScenario, StepDef } from './definitions.js';
import { ACCESS_LOG_EVENT_IDS, SquidAccessLog } from './gateway-log/squid.js';
import { squidConfig } from '../../conformance/route.js';

/** An external CONNECT proxy under test, and what the run knows about it. */
export interface ExternalGateway {
  host: string;
  port: number;
  /** The fake cloud's fixed port, so the proxy can be configured to reach it before the run. */
  cloudPort?: number;
  /** The proxy's own log, turned into the outcomes expectations need. */
  gatewayLog?: SquidAccessLog;
}

/** `--gateway-log squid:/path/access.log`. */
export function parseGatewayLog(text: string): SquidAccessLog {
  const m = /^squid:(.+)$/.exec(text);
  if (!m) throw new InputError(`--gateway-log must be squid:<path to access.log> (the only adapter so far), got ${JSON.stringify(text)}`);
  if (!existsSync(m[1])) throw new InputError(`--gateway-log: ${m[1]} does not exist; give squid's access_log file (squid.conf: access_log stdio:/path/access.log squid)`);
  return new SquidAccessLog(m[1]);
}

/** The proxy answers TCP at all; otherwise a clear input error (exit 2) before anything starts. */
export async function checkReachable(g: { host: string; port: number }, timeoutMs = 3000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: g.host, port: g.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new InputError(`--gateway ${g.host}:${g.port} did not accept a connection within ${timeoutMs} ms: is the proxy running?`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new InputError(`cannot reach --gateway ${g.host}:${g.port} (${err.code ?? err.message}): start the proxy, or fix --gateway`));
    });
  });
}

/**
 * The configuration the external proxy needs for these scenarios, printed before they run: squid
 * lines (the fake cloud answers CONNECT, so it is squid's parent) and the hosts to allow.
 */
export function externalRouteText(scenarios: LoadedScenario[], cloudPort: number | undefined): string {
  const hosts = scenarioAllowlist(scenarios);
  const port = cloudPort ?? '<--cloud-port>';
  const squid = squidConfig({ listenPort: 3128, dir: '/var/run/squid', parentPort: cloudPort ?? 0, allowlist: hosts })
    .split('\n')
    .filter((l) => /^(acl |http_access|cache_peer|never_direct)/.test(l))
    .map((l) => `    ${l.replace(/ parent 0 /, ` parent ${port} `)}`);
  return [
    `The proxy under test must send every CONNECT to the fake cloud on 127.0.0.1:${port} (it answers CONNECT as a parent proxy):`,
    '  squid.conf:',
    ...squid,
    `  other proxies: a parent/upstream proxy http://127.0.0.1:${port}, and allow ${hosts.join(', ')}`,
    cloudPort === undefined ? '  (without --cloud-port the cloud takes a new port each run: give --cloud-port to configure the proxy once)' : '',
    '',
  ].filter((l, i, a) => l !== '' || i === a.length - 1).join('\n');
}

/** The hosts the external proxy must allow for these scenarios: every host their agents contact. */
export function scenarioAllowlist(scenarios: LoadedScenario[]): string[] {
  return [...new Set(scenarios.flatMap((s) => s.def.workspaces.flatMap((w) => workspaceHostnames(w.id))))];
}

/**
 * Whether an expectation can be checked against an external proxy. Events: only through a gateway-log
 * adapter, only for the ids it stands for, and never message texts (squid's log has outcomes, not
 * omsgw's wording). Returns the reason when it cannot.
 */
export function unverifiable(step: StepDef, external: ExternalGateway): string | undefined {
  if (step.do !== 'expect.events') return undefined;
  const s = step as ExpectEventsStep;
  if (!external.gatewayLog) return `events come from omsgw's management API; ${external.host}:${external.port} has none (give --gateway-log squid:/path/access.log for outcome-level events)`;
  const ids = [...(s.sequence ?? []), ...(s.absent ?? [])];
  const unknown = ids.filter((id) => !(ACCESS_LOG_EVENT_IDS as readonly number[]).includes(id));
  if (unknown.length) return `squid's access log cannot show event ${unknown.join(', ')} (it has outcomes for ${ACCESS_LOG_EVENT_IDS.join(', ')} only; it never looks inside a tunnel)`;
  if (s.messageContains?.length) return 'the message texts are omsgw\'s; squid\'s access log records only the outcome';
  if (s.generation === 'current') return 'generations are restarts of omsgw\'s own gateway';
  return undefined;
}
