import { execFileSync, spawnSync } from 'node:child_process';

/** Full path of an executable on PATH (or in the usual sbin folders), or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin'])) {
    const r = spawnSync('test', ['-x', `${dir}/${name}`]);
    if (dir && r.status === 0) return `${dir}/${name}`;
  }
  return undefined;
}

/**
 * Makes sure the Debian packages providing the peers are installed: `apt-get install -y`, after
 * `apt-get update` when the package is unknown. Returns a reason per package that could not be installed.
 */
export function ensureDebianPackages(pkgs: Array<{ pkg: string; binary: string }>, log: (msg: string) => void): Record<string, string> {
  const missing = pkgs.filter((p) => !findExecutable(p.binary));
  const failed: Record<string, string> = {};
  if (missing.length === 0) return failed;
  if (!findExecutable('apt-get')) {
    for (const p of missing) failed[p.pkg] = 'not installed and apt-get is not available';
    return failed;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const known = (pkg: string): boolean => spawnSync('apt-cache', ['show', pkg], { stdio: 'ignore' }).status === 0;
  if (missing.some((p) => !known(p.pkg))) {
    log('apt-get update (peer packages unknown to apt-cache)');
    spawnSync('apt-get', ['update'], { stdio: 'ignore', env, timeout: 180_000 });
  }
  for (const p of missing) {
    log(`installing ${p.pkg} with apt-get`);
    try {
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', p.pkg], { stdio: 'ignore', env, timeout: 300_000 });
    } catch (err) {
      failed[p.pkg] = `apt-get install ${p.pkg} failed: ${(err as Error).message.split('\n')[0]}`;
      continue;
    }
    if (!findExecutable(p.binary)) failed[p.pkg] = `${p.pkg} installed but ${p.binary} not found`;
  }
  return failed;
}
