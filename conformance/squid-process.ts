import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../harness/free-port.js';
import { startPeerProcess } from './peer-process.js';
import { squidConfig, type SquidConfigOptions } from './route.js';

export interface SquidProcess {
  port: number;
  dir: string;
  accessLog: string;
  config: string;
  stop(): Promise<void>;
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
  const port = await freeLoopbackPort();
  const { clientCredentials, ...rest } = o;
  const config = squidConfig({ ...rest, listenPort: port, dir, clientAuth: clientCredentials ? { passwordFile: writePasswordFile(dir, clientCredentials) } : undefined });
  const confFile = join(dir, 'squid.conf');
  writeFileSync(confFile, config);
  const { stop } = await startPeerProcess({ name: 'squid', binary, args: ['-N', '-f', confFile], port, dir, log: join(dir, 'cache.log') });
  return { port, dir, accessLog: join(dir, 'access.log'), config, stop };
}
