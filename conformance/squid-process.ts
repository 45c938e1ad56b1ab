import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { squidConfig, type SquidConfigOptions } from './route.js';

export interface SquidProcess {
  port: number;
  dir: string;
  accessLog: string;
  config: string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (squid needs a number in its config; it cannot take 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** An htpasswd line (Apache MD5, `openssl passwd -apr1`, which basic_ncsa_auth accepts) in `<dir>/passwords`. */
function writePasswordFile(dir: string, credentials: string): string {
  const user = credentials.slice(0, credentials.indexOf(':'));
  const hash = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: credentials.slice(user.length + 1) }).toString().trim();
  const file = join(dir, 'passwords');
  writeFileSync(file, `${user}:${hash}\n`, { mode: 0o644 });
  return file;
}

/**
 * Runs Debian's squid in the foreground (`squid -N`) with the conformance configuration, in its own
 * temp folder (config, pid file, logs), on a free loopback port. stop() ends that one process and
 * removes the folder. Start the suite's upstreams first: squid marks a parent that is down when it
 * starts as dead and answers 500 until it probes it again.
 */
export async function startSquid(o: Omit<SquidConfigOptions, 'listenPort' | 'dir' | 'clientAuth'> & { clientCredentials?: string }, binary = '/usr/sbin/squid'): Promise<SquidProcess> {
  if (!existsSync(binary)) throw new Error(`${binary} is not installed (apt-get install squid; .ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-squid-'));
  // squid started as root switches to the "proxy" user: it must be able to write its logs here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const { clientCredentials, ...rest } = o;
  const config = squidConfig({ ...rest, listenPort: port, dir, clientAuth: clientCredentials ? { passwordFile: writePasswordFile(dir, clientCredentials) } : undefined });
  const confFile = join(dir, 'squid.conf');
  writeFileSync(confFile, config);
  const child: ChildProcess = spawn(binary, ['-N', '-f', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async (): Promise<void> => {
    if (!gone && child.pid) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (gone || Date.now() > until) {
      const log = existsSync(join(dir, 'cache.log')) ? readFileSync(join(dir, 'cache.log'), 'utf8').slice(-600) : '';
      await stop();
      throw new Error(`squid did not start listening on 127.0.0.1:${port}: ${output.slice(-400)} ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, dir, accessLog: join(dir, 'access.log'), config, stop };
}
