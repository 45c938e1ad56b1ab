import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { packageRoot } from '../lib/paths.js';
import { generateBenchCerts } from '../harness/certs.js';
import { spawnReady, type ReadyChild } from '../harness/child.js';
import { freeLoopbackPort } from '../harness/free-port.js';
import type { Endpoint } from '../harness/driver/types.js';
import { spawnGateway, type GatewayProcess } from '../gateway/process.js';
import { createFakeCloud, type FakeCloud } from '../fake-oms-endpoints/index.js';
import type { LedgerEntry } from '../fake-oms-endpoints/ledger.js';
import type { LoadOptions } from './options.js';
import { labLedger } from './shard/lab.js';
import { DEAD_HOST } from './probes.js';

export const DRIVER_HOST = 'load.omsgw-bench.invalid';

/** What the agents profile needs of a fake cloud, wherever it runs. */
export interface CloudView {
  caCertPem: string;
  /** Ledger entries of one workspace (a shared cloud's hold every shard's agents). */
  ledger(workspaceId: string): Promise<LedgerEntry[]>;
}

const localView = (cloud: FakeCloud): CloudView => ({ caCertPem: cloud.caCertPem, ledger: async (workspaceId) => cloud.ledger.summary({ workspaceId }) });

/** What a load run talks to: the fake cloud (agents) or the bench upstream (tunnels), and the proxy in front. */
export interface LoadTargets {
  proxy: Endpoint;
  /** omsgw's management API, or --admin for an external gateway; undefined: counters cannot be read. */
  adminUrl?: string;
  kind: 'omsgw' | 'external';
  workspace: { id: string; key: string };
  /** The fake cloud the agents upload to: in this process, or a shared `omsgw cloud` (--cloud). */
  cloud?: CloudView;
  /** TLS material for the tunnel driver (non-agent profiles). */
  driverTls?: { ca: string; cert: string; key: string };
  close(): Promise<void>;
  /** The omsgw gateway child's pid (its CPU time is reported beside the simulator's). */
  gatewayPid?: number;
  /** Lab API URL of the in-process fake cloud (only with --processes N). */
  labUrl?: string;
}

/**
 * Starts the upstream side (the fake cloud for agents, the bench upstream otherwise) and, unless an
 * external --gateway is given, an omsgw gateway child that allows and maps exactly those hosts plus
 * DEAD_HOST (mapped to a port where nothing listens: CONNECTs there fail upstream, the Error Count probes).
 */
export async function startTargets(o: LoadOptions, workDir: string, log: (line: string) => void): Promise<LoadTargets> {
  const workspace = o.remote?.workspace ?? { id: randomUUID(), key: randomBytes(64).toString('base64') };
  let cloud: FakeCloud | undefined;
  let view: CloudView | undefined;
  let upstream: ReadyChild<{ port: number; pid: number }> | undefined;
  let gw: GatewayProcess | undefined;
  const close = async (): Promise<void> => {
    await gw?.stop().catch(() => undefined);
    await upstream?.stop().catch(() => undefined);
    await cloud?.close().catch(() => undefined);
  };
  try {
    const deadPort = await freeLoopbackPort();
    const allow: string[] = [DEAD_HOST];
    const hostMap: string[] = [`${DEAD_HOST}=127.0.0.1:${deadPort}`];
    let driverTls: LoadTargets['driverTls'];
    if (o.profile === 'agents' && o.remote) {
      const lab = o.remote.lab;
      view = { caCertPem: o.remote.caCertPem, ledger: (workspaceId) => labLedger(lab, workspaceId) };
      log(`using the shared fake cloud at ${lab.url} (workspace ${workspace.id})`);
      for (const e of lab.info.hostMapEntries) {
        hostMap.push(e);
        allow.push(e.slice(0, e.indexOf('=')));
      }
    } else if (o.profile === 'agents') {
      // --processes N: the agent processes reach this cloud through its lab API (CA, ledger), like shards reach `omsgw cloud`.
      const adminPort = (o.processes ?? 1) > 1 ? 0 : undefined;
      cloud = createFakeCloud({ stateDir: join(workDir, 'cloud'), workspaces: [workspace], port: o.targetPort ?? 0, adminPort, sessionTickets: false });
      await cloud.start();
      view = localView(cloud);
      for (const e of cloud.hostMapEntries()) {
        hostMap.push(e);
        allow.push(e.slice(0, e.indexOf('=')));
      }
    } else {
      const certs = generateBenchCerts(join(workDir, 'certs'));
      driverTls = { ca: certs.serverCert, cert: certs.clientCert, key: certs.clientKey };
      upstream = await spawnReady(process.execPath, [join(packageRoot(), 'dist', 'harness', 'upstream', 'main.js'), certs.files.serverCert, certs.files.serverKey, String(o.targetPort ?? 0)], { prefix: 'omsgw-bench-upstream-ready' });
      hostMap.push(`${DRIVER_HOST}=127.0.0.1:${upstream.info.port}`);
      allow.push(DRIVER_HOST);
    }
    if (o.gateway) {
      log(`using the CONNECT proxy at ${o.gateway.host}:${o.gateway.port}${o.adminUrl ? ` (counters from ${o.adminUrl})` : ' (no --admin: counters not compared)'}; it must map ${o.profile === 'agents' ? 'the fake cloud hosts' : DRIVER_HOST} itself`);
      return { proxy: o.gateway, adminUrl: o.adminUrl, kind: 'external', workspace, cloud: view, driverTls, close };
    }
    const args = ['--listen-host', '127.0.0.1', '--max-connections', '20000', '--quiet'];
    for (const h of allow) args.push('--allow-host', h);
    for (const m of hostMap) args.push('--host-map', m);
    gw = await spawnGateway(args, { cwd: workDir, env: o.gatewayExecArgv?.length ? { NODE_OPTIONS: o.gatewayExecArgv.join(' ') } : undefined });
    log(`omsgw gateway pid ${gw.pid} on ${gw.proxyHost}:${gw.proxyPort}, management API ${gw.adminUrl}`);
    return { proxy: { host: gw.proxyHost, port: gw.proxyPort }, adminUrl: gw.adminUrl, kind: 'omsgw', workspace, cloud: view, driverTls, close, gatewayPid: gw.pid, labUrl: cloud?.adminUrl };
  } catch (err) {
    await close();
    throw err;
  }
}
