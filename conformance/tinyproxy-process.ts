import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../harness/free-port.js';
import { startPeerProcess } from './peer-process.js';
import { tinyproxyConfig, tinyproxyFilter, type TinyproxyConfigOptions } from './route.js';

export interface TinyproxyProcess {
  port: number;
  dir: string;
  /** tinyproxy's own log (LogLevel Info): every request line, refusal and closed tunnel. */
  log: string;
  config: string;
  stop(): Promise<void>;
}

const BINARIES = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'];

/**
 * Runs Debian's tinyproxy in the foreground (`tinyproxy -d -c <conf>`) with the conformance
 * configuration, in its own temp folder (config, filter, log, pid file), on a free loopback port.
 * Ready when it accepts TCP (or fails at once if it exits first); stop() ends that one process and
 * removes the folder.
 */
export async function startTinyproxy(o: Omit<TinyproxyConfigOptions, 'listenPort' | 'dir' | 'runAs'>, binary = BINARIES.find((b) => existsSync(b))): Promise<TinyproxyProcess> {
  if (!binary) throw new Error(`tinyproxy is not installed at ${BINARIES.join(' or ')} (apt-get install tinyproxy; .ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-tinyproxy-'));
  // Started as root, tinyproxy drops to nobody (User/Group) and must still write its log here.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(dir, 0o777);
  const port = await freeLoopbackPort();
  const config = tinyproxyConfig({ ...o, listenPort: port, dir, runAs: asRoot ? { user: 'nobody', group: 'nogroup' } : undefined });
  const confFile = join(dir, 'tinyproxy.conf');
  writeFileSync(join(dir, 'filter'), tinyproxyFilter(o.allowlist), { mode: 0o644 });
  writeFileSync(confFile, config, { mode: 0o644 });
  const log = join(dir, 'tinyproxy.log');
  const { stop } = await startPeerProcess({ name: 'tinyproxy', binary, args: ['-d', '-c', confFile], port, dir, log });
  return { port, dir, log, config, stop };
}
