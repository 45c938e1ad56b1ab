import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../lib/errors.js';
import { Command } from '@commander-js/extra-typings';
import { createFakeCloud, type Workspace } from '../../fake-oms-endpoints/index.js';
import { isIP } from 'node:net';
import { generateWorkspace, parsePortFlag, parseWorkspaceFlag } from '../../fake-oms-endpoints/cli/options.js';
import { DEFAULT_CLOUD_TLS, resolveCloudTls, type CloudTlsVersion } from '../../fake-oms-endpoints/tls-versions.js';

/** Readiness line for programs that start `omsgw cloud` as a child process. */
export const CLOUD_READY_PREFIX = 'omsgw-cloud-ready ';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function print(line: string): void {
  process.stdout.write(line + '\n');
}

/** Ready-to-use files in the state folder: env.sh (WS, KEY, CA, CLOUD) and host-map.txt (every host the cloud serves). */
function writeTourFiles(stateDir: string, ws: Workspace, caPath: string, hostMap: string[], adminUrl: string | undefined): { env: string; hostMap: string; exports: string[] } {
  const exports = [`export WS=${ws.id}`, `export KEY='${ws.key}'`, `export CA=${caPath}`, ...(adminUrl ? [`export CLOUD=${adminUrl}`] : [])];
  const env = join(stateDir, 'env.sh');
  const hostMapFile = join(stateDir, 'host-map.txt');
  try {
    writeFileSync(hostMapFile, ['# every host the fake cloud serves (omsgw gateway --host-map-file)', ...hostMap, ''].join('\n'));
    writeFileSync(env, exports.join('\n') + '\n');
  } catch (err) {
    throw new InputError(`cannot write into --state-dir ${stateDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { env, hostMap: hostMapFile, exports };
}

/** --listen-host: an IP literal (a name could resolve to an address other machines cannot reach). */
function parseListenHost(value: string): string {
  if (isIP(value) === 0) throw new InputError(`--listen-host must be an IP address such as 127.0.0.1 or 0.0.0.0, got "${value}"`);
  return value;
}

export function registerCloudCommands(program: Command): void {
  program
    .command('cloud')
    .description('Run the fake Azure Log Analytics cloud: onboarding, ODS ingestion, Data Collector API, DSC, blobs; lab CA; fault injection')
    .option('--listen-host <address>', 'address both ports listen on: loopback, or 0.0.0.0 / :: to serve other machines (a container behind a Service)', '127.0.0.1')
    .option('--port <port>', 'TLS + CONNECT port (0 = any free port)', '0')
    .option('--admin-port <port>', 'plain-HTTP lab API port (0 = any free port)', '0')
    .option('--workspace <id:key>', 'workspace id and base64 shared key; repeat for more (none: one is generated)', collect, [] as string[])
    .option('--state-dir <dir>', 'folder for the lab CA (ca.pem, ca-key.pem), created on first use and reused', '.omsgw/cloud')
    .option('--no-client-cert', 'do not request client certificates in TLS handshakes')
    .option('--no-session-tickets', 'issue no TLS session tickets (for load runs: their agents never resume, a ticket per handshake costs the cloud CPU)')
    .option('--tls-min-version <v>', `lowest TLS version the endpoints negotiate: TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3 (default ${DEFAULT_CLOUD_TLS.minVersion}, like today's Azure)`)
    .option('--tls-max-version <v>', `highest TLS version the endpoints negotiate (default ${DEFAULT_CLOUD_TLS.maxVersion}; TLSv1.2 for the 2016 endpoints)`)
    .option('--json', 'print only the readiness line')
    .addHelpText(
      'after',
      `
Example:
  omsgw cloud --port 8443 --admin-port 8444 --state-dir ./lab \\
    --workspace 6f1b4d2a-3c5e-4f70-8a9b-0c1d2e3f4a5b:$(openssl rand -base64 64 | tr -d '\\n')

TLS: TLSv1.2 to TLSv1.3 by default (today's Azure endpoints); --tls-max-version TLSv1.2 plays the
2016 endpoints, --tls-min-version TLSv1 lets TLS 1.0/1.1 agents in.
Reach it as a relay proxy (gateway: relay proxy http://127.0.0.1:8443) or through host-map
entries such as *.opinsights.azure.com=127.0.0.1:8443. Agents must trust <state-dir>/ca.pem.
Lab API: curl http://127.0.0.1:8444/_lab/ingested ; POST /_lab/faults '{"type":"status","status":503}'
  GET /_lab/ca.pem (the CA), POST/GET /_lab/load-results/<run-id>[/<shard>] (omsgw load --publish / load merge --from)
In a container: omsgw cloud --listen-host 0.0.0.0 --port 9443 --admin-port 9444 (docs/deploy.md)`,
    )
    .action(async (flags) => {
      const port = parsePortFlag('--port', flags.port);
      const adminPort = parsePortFlag('--admin-port', flags.adminPort);
      const given = flags.workspace.map(parseWorkspaceFlag);
      const workspaces: Workspace[] = given.length ? given : [generateWorkspace()];
      const host = parseListenHost(flags.listenHost);
      const tls = resolveCloudTls(
        { minVersion: flags.tlsMinVersion as CloudTlsVersion | undefined, maxVersion: flags.tlsMaxVersion as CloudTlsVersion | undefined },
        { minVersion: '--tls-min-version', maxVersion: '--tls-max-version' },
      );
      const cloud = createFakeCloud({ host, stateDir: resolve(flags.stateDir), workspaces, port, adminPort, requestClientCertificate: flags.clientCert, sessionTickets: flags.sessionTickets, tls });
      await cloud.start();
      const files = writeTourFiles(resolve(flags.stateDir), workspaces[0], cloud.caCertPath, cloud.hostMapEntries(), cloud.adminUrl);
      if (!flags.json) {
        print(`fake cloud listening on ${host}:${cloud.port} (CONNECT proxy and TLS by SNI)`);
        print(`lab CA (agents must trust it): ${cloud.caCertPath}`);
        print(`TLS versions: ${tls.minVersion} to ${tls.maxVersion}`);
        print(`workspaces${given.length ? '' : ' (generated)'}:`);
        for (const w of workspaces) print(`  ${w.id}:${w.key}`);
        print(`as a relay proxy: ${cloud.proxyUrl}`);
        print(`as a host-map file covering every host it serves (--host-map-file): ${files.hostMap}`);
        for (const e of cloud.hostMapEntries()) print(`  ${e}`);
        print(`lab API: ${cloud.adminUrl}/_lab/ingested  /_lab/agents  /_lab/faults  /_lab/info`);
        print(`paste into your shell (or: . ${files.env}):`);
        for (const line of files.exports) print(`  ${line}`);
      }
      // Listen before announcing readiness: whoever reads the line may signal at once, and a signal
      // that comes before the listener kills the process without closing the cloud.
      const stopped = new Promise<void>((done) => {
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          void cloud.close().then(done, (err: Error) => {
            process.stderr.write(`omsgw: error while stopping the fake cloud: ${err.message}\n`);
            process.exitCode = 1;
            done();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      print(CLOUD_READY_PREFIX + JSON.stringify({ port: cloud.port, adminPort: cloud.adminPort, proxyUrl: cloud.proxyUrl, caCertPath: cloud.caCertPath, workspaces, hostMap: cloud.hostMapEntries(), tls, pid: process.pid }));
      await stopped;
    });
}
