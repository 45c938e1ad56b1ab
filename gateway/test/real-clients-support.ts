/**
 * Helpers for the real-client checks (real-clients.test.ts): `omsgw cloud` as a child process, a
 * Linux agent's on-disk identity (oms.crt, oms.key, the onboarding body and headers) built with
 * the simulators' own helpers, and a runner for the Debian clients (curl, openssl, ruby).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { createClientCertificate, generateRsaKeyPair } from '../../simulators/agent-core/certificate.js';
import { createIdentity } from '../../simulators/agent-core/identity.js';
import { signedTopologyHeaders } from '../../simulators/agent-core/signing.js';
import { linuxTopologyRequestXml } from '../../simulators/agent-core/topology.js';

export interface CloudProcess {
  port: number;
  adminUrl: string;
  caCertPath: string;
  hostMap: string[];
  tls: { minVersion: string; maxVersion: string };
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `omsgw cloud` with its defaults (ephemeral ports aside); resolves on its readiness line. */
export function spawnCloud(args: string[]): Promise<CloudProcess> {
  const child = spawn(process.execPath, [cliPath(), 'cloud', '--port', '0', '--admin-port', '0', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`omsgw cloud not ready after 20 s: ${out}${err}`));
    }, 20_000);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`omsgw cloud exited (${code}) before it was ready: ${out}${err}`));
    });
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('omsgw-cloud-ready '));
      if (!line) return;
      clearTimeout(timer);
      const info = JSON.parse(line.slice('omsgw-cloud-ready '.length)) as { port: number; adminPort: number; caCertPath: string; hostMap: string[]; tls: { minVersion: string; maxVersion: string } };
      resolve({
        ...info,
        adminUrl: `http://127.0.0.1:${info.adminPort}`,
        child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

export interface LinuxAgentFiles {
  agentGuid: string;
  subject: string;
  certPath: string;
  keyPath: string;
  /** body_onboard.xml as omsadmin.sh writes it. */
  bodyPath: string;
  /** x-ms-Date, x-ms-version, x-ms-SHA256_Content, Authorization, User-Agent, Accept-Language. */
  headers: Record<string, string>;
}

/** What omsadmin.sh has on disk before its curl call: oms.crt, oms.key and body_onboard.xml, and the signed headers. */
export async function linuxAgentFiles(dir: string, workspaceId: string, workspaceKey: string): Promise<LinuxAgentFiles> {
  const identity = createIdentity('linux', 'real-clients');
  const cert = await createClientCertificate({
    workspaceId,
    agentGuid: identity.agentGuid,
    os: 'linux',
    keys: await generateRsaKeyPair(),
    notBefore: new Date(Date.now() - 60_000),
    serialNumber: '01',
  });
  const body = linuxTopologyRequestXml(identity, cert.pemBody);
  const files = { certPath: join(dir, 'oms.crt'), keyPath: join(dir, 'oms.key'), bodyPath: join(dir, 'body_onboard.xml') };
  writeFileSync(files.certPath, cert.certPem);
  writeFileSync(files.keyPath, cert.keyPem, { mode: 0o600 });
  writeFileSync(files.bodyPath, body);
  const headers = signedTopologyHeaders({ workspaceId, sharedKey: workspaceKey, body, epochMs: Date.now(), userAgent: `LinuxMonitoringAgent/${identity.agentVersion}` });
  return { agentGuid: identity.agentGuid, subject: cert.subject, headers, ...files };
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Debian client with a clean environment (no inherited http_proxy/no_proxy can change what it
 * does). A missing tool is a failure (spawn error), never a skip.
 */
export function runTool(command: string, args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not be run (${(err as NodeJS.ErrnoException).code ?? err.message}): .ci/run installs it`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
