import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../../gateway/process.js';
import { ALLOWED_CLIENT_CN, DEFAULT_WORKSPACE } from '../hosts.js';
import { omsgwHostMap, relayUrl, requiredAllowlist } from '../route.js';
import { runSuite } from '../runner.js';
import type { CaseDef, SuiteOptions, SuiteReport, TlsPolicyName } from '../types.js';
import { startUpstreams, type UpstreamSet } from '../upstream-set.js';

export interface Lab {
  dir: string;
  upstreams: UpstreamSet;
  close(): Promise<void>;
}

/** The suite's upstreams on ephemeral ports, in a temp folder removed by close(). */
export async function startLab(relayAuth?: string): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-conf-test-'));
  const upstreams = await startUpstreams({ cloudPort: 0, echoPort: 0, relayPort: 0, relayAuth, workspaceId: DEFAULT_WORKSPACE, stateDir: join(dir, 'state') });
  return {
    dir,
    upstreams,
    close: async () => {
      await upstreams.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OmsgwRoute {
  route: 'relay' | 'host-map';
  relayAuth?: string;
  proxyAuth?: string;
  tlsPolicy: 'current' | 'preview-2016';
  timeoutsMs: number;
}

/** omsgw's gateway configured with the route the suite prints (allowlist and client allowlist files, host map or relay). */
export async function startOmsgw(lab: Lab, r: OmsgwRoute): Promise<GatewayProcess> {
  const allowlist = join(lab.dir, 'allowedlist_server.txt');
  const clients = join(lab.dir, 'allowedlist_client.txt');
  const config = join(lab.dir, 'gateway.json');
  writeFileSync(allowlist, `${requiredAllowlist(DEFAULT_WORKSPACE).join('\n')}\n`);
  writeFileSync(clients, `CN=${ALLOWED_CLIENT_CN}\n`);
  // TLS 1.3 hides the client certificate: the route lets it through unchecked (docs/conformance.md).
  writeFileSync(config, JSON.stringify({ tls: { tls13ClientCertificate: 'allow' } }));
  const route = r.route === 'relay' ? ['--relay-proxy', relayUrl(lab.upstreams.ports, r.relayAuth)] : omsgwHostMap(lab.upstreams.ports).flatMap((h) => ['--host-map', h]);
  const ms = String(r.timeoutsMs);
  return spawnGateway(['--config', config, '--tls-policy', r.tlsPolicy, '--allowlist', allowlist, '--client-allowlist', clients, ...route, ...(r.proxyAuth ? ['--proxy-auth', r.proxyAuth] : []), '--header-timeout-ms', ms, '--idle-timeout-ms', ms, '-q']);
}

export function suiteOptions(lab: Lab, gateway: { host: string; port: number }, o: Partial<SuiteOptions> & { tlsPolicy: TlsPolicyName; headTimeoutMs: number }): SuiteOptions {
  return { gateway, ...lab.upstreams.ports, workspaceId: DEFAULT_WORKSPACE, stateDir: join(lab.dir, 'state'), ...o };
}

export async function run(lab: Lab, options: SuiteOptions, cases?: CaseDef[]): Promise<SuiteReport> {
  return runSuite(options, lab.upstreams, {}, cases);
}

/** "id: expected … seen …" for every result that is not a pass: what a failing assertion should show. */
export function notPassed(report: SuiteReport): string[] {
  return report.results
    .filter((r) => r.verdict.status !== 'pass')
    .map((r) => `${r.id}: ${r.verdict.status === 'fail' ? `expected ${r.verdict.expected}; seen ${r.verdict.seen}` : r.verdict.status === 'not-observable' ? `not observable: ${r.verdict.why}` : ''}`);
}
