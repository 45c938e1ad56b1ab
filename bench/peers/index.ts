import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, packageRoot } from '../../lib/paths.js';
import type { BenchCerts } from '../../harness/certs.js';
import { spawnListening, spawnReady, type ReadyChild } from '../../harness/child.js';
import type { Endpoint } from '../../harness/driver/types.js';
import { freeLoopbackPort } from '../../harness/free-port.js';
import { findExecutable } from './install.js';

export interface BenchContext {
  upstreamPort: number;
  upstreamPid: number;
  /** Hostname the clients CONNECT to and send as SNI. */
  benchHost: string;
  workDir: string;
  certs: BenchCerts;
  log: (msg: string) => void;
  /** Extra node flags for omsgw (e.g. --cpu-prof). */
  gatewayExecArgv: string[];
}

export interface RunningPeer {
  name: string;
  /** undefined for the direct baseline. */
  proxy?: Endpoint;
  /** The CONNECT target (host:port) this peer is given. */
  target: Endpoint;
  /** direct only: where TCP goes. */
  direct?: Endpoint;
  /** omsgw only: its management API (the bench's consoles workload opens web consoles on it). */
  admin?: Endpoint;
  /** Process whose RSS is "the proxy's memory" (undefined for direct). */
  pid?: number;
  stop(): Promise<void>;
}

export interface PeerSpec {
  name: string;
  description: string;
  /** Debian package that provides it, installed by the bench when missing. */
  debianPackage?: { pkg: string; binary: string };
  start(ctx: BenchContext): Promise<RunningPeer>;
}

let instances = 0;
/** A folder of its own for each peer process started (a fresh squid must not find the previous one's pid file). */
function instanceDir(ctx: BenchContext, name: string): string {
  const dir = join(ctx.workDir, `${name}-${++instances}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function node(): string {
  return process.execPath;
}

const direct: PeerSpec = {
  name: 'direct',
  description: 'no proxy: TLS straight to the upstream',
  async start(ctx) {
    return {
      name: 'direct',
      target: { host: ctx.benchHost, port: 443 },
      direct: { host: '127.0.0.1', port: ctx.upstreamPort },
      stop: async () => undefined,
    };
  },
};

const naive: PeerSpec = {
  name: 'naive-node',
  description: 'naive Node CONNECT proxy (net.connect + pipe, no checks)',
  async start(ctx) {
    const child = await spawnReady<{ port: number }>(node(), [join(packageRoot(), 'dist', 'bench', 'peers', 'naive-main.js'), String(ctx.upstreamPort)], {
      prefix: 'omsgw-bench-naive-ready',
    });
    return { name: 'naive-node', proxy: { host: '127.0.0.1', port: child.info.port }, target: { host: ctx.benchHost, port: 443 }, pid: child.pid, stop: () => child.stop() };
  },
};

/** omsgw with an exact host map entry for the bench host, allowlisting it (and the bench client certificate). */
function omsgw(inspect: boolean): PeerSpec {
  const name = inspect ? 'omsgw' : 'omsgw-noinspect';
  return {
    name,
    description: `omsgw gateway, TLS inspection ${inspect ? 'on' : 'off'}`,
    async start(ctx) {
      const dir = instanceDir(ctx, name);
      const args = gatewayArgs(ctx, dir, inspect);
      const child: ReadyChild<{ proxy: Endpoint; admin?: Endpoint; pid: number }> = await spawnReady(node(), [...ctx.gatewayExecArgv, cliPath(), 'gateway', ...args], {
        prefix: 'omsgw-gateway-ready',
        cwd: dir,
      });
      return { name, proxy: child.info.proxy, admin: child.info.admin, target: { host: ctx.benchHost, port: 443 }, pid: child.pid, stop: () => child.stop() };
    },
  };
}

/** The `omsgw gateway` flags for the bench (see docs/gateway.md). */
export function gatewayArgs(ctx: BenchContext, dir: string, inspect: boolean): string[] {
  const allow = join(dir, 'allowedlist_server.txt');
  const clients = join(dir, 'allowedlist_client.txt');
  writeFileSync(allow, `${ctx.benchHost}\n`);
  writeFileSync(clients, `${ctx.certs.clientSubject}\n`);
  return [
    '--listen-host', '127.0.0.1',
    '--listen-port', '0',
    '--admin-port', '0',
    '--allowlist', allow,
    '--client-allowlist', clients,
    '--host-map', `${ctx.benchHost}=127.0.0.1:${ctx.upstreamPort}`,
    '--max-connections', '20000',
    '--quiet', // events still go to the in-memory log; printing each to a pipe is not what is measured
    ...(inspect ? [] : ['--no-tls-inspection']),
  ];
}

/**
 * squid and tinyproxy resolve CONNECT hosts themselves and have no host map, so they get
 * `CONNECT 127.0.0.1:<upstreamPort>` (no DNS either way); omsgw looks the bench host up in its host map.
 */
const squid: PeerSpec = {
  name: 'squid',
  description: 'squid 5 (Debian), no cache, CONNECT to the upstream port allowed',
  debianPackage: { pkg: 'squid', binary: 'squid' },
  async start(ctx) {
    const bin = findExecutable('squid');
    if (!bin) throw new Error('squid is not installed');
    const dir = instanceDir(ctx, 'squid');
    chmodSync(dir, 0o777); // squid drops privileges to its own user and must write its logs here
    const port = await freeLoopbackPort();
    const conf = join(dir, 'squid.conf');
    writeFileSync(
      conf,
      [
        `http_port 127.0.0.1:${port}`,
        'acl localhost_src src 127.0.0.0/8',
        `acl bench_ports port 443 ${ctx.upstreamPort}`,
        'acl CONNECT method CONNECT',
        'http_access deny CONNECT !bench_ports',
        'http_access allow localhost_src',
        'http_access deny all',
        'cache deny all',
        'cache_mem 8 MB',
        'max_filedescriptors 20000',
        'workers 1',
        `access_log stdio:${join(dir, 'access.log')}`,
        `cache_log ${join(dir, 'cache.log')}`,
        'cache_store_log none',
        `pid_filename ${join(dir, 'squid.pid')}`,
        `coredump_dir ${dir}`,
        'shutdown_lifetime 1 seconds',
        `hosts_file ${join(dir, 'hosts')}`,
        'dns_nameservers 127.0.0.1',
        'client_persistent_connections on',
        'read_timeout 15 minutes',
        'client_lifetime 1 day',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'hosts'), `127.0.0.1 ${ctx.benchHost}\n`);
    const child = await spawnListening(bin, ['-N', '-f', conf], port, { cwd: dir });
    return { name: 'squid', proxy: { host: '127.0.0.1', port }, target: { host: '127.0.0.1', port: ctx.upstreamPort }, pid: child.pid, stop: () => child.stop() };
  },
};

const tinyproxy: PeerSpec = {
  name: 'tinyproxy',
  description: 'tinyproxy 1.11 (Debian), CONNECT to the upstream port allowed',
  debianPackage: { pkg: 'tinyproxy', binary: 'tinyproxy' },
  async start(ctx) {
    const bin = findExecutable('tinyproxy');
    if (!bin) throw new Error('tinyproxy is not installed');
    const dir = instanceDir(ctx, 'tinyproxy');
    chmodSync(dir, 0o777); // tinyproxy drops to nobody and writes its log here
    const port = await freeLoopbackPort();
    const conf = join(dir, 'tinyproxy.conf');
    writeFileSync(
      conf,
      [
        'User nobody',
        'Group nogroup',
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 900',
        'MaxClients 20000',
        'Allow 127.0.0.0/8',
        'ConnectPort 443',
        `ConnectPort ${ctx.upstreamPort}`,
        `LogFile "${join(dir, 'tinyproxy.log')}"`,
        'LogLevel Connect',
        `PidFile "${join(dir, 'tinyproxy.pid')}"`,
        'DisableViaHeader Yes',
        '',
      ].join('\n'),
    );
    const child = await spawnListening(bin, ['-d', '-c', conf], port, { cwd: dir });
    return { name: 'tinyproxy', proxy: { host: '127.0.0.1', port }, target: { host: '127.0.0.1', port: ctx.upstreamPort }, pid: child.pid, stop: () => child.stop() };
  },
};

/** Every peer the bench knows, in table order. */
export const ALL_PEERS: PeerSpec[] = [direct, omsgw(true), omsgw(false), squid, tinyproxy, naive];
