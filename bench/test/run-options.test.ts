import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isInputError } from '../../lib/errors.js';
import { cliPath } from '../../lib/paths.js';
import { runBench } from '../run.js';

/** Bad selections are refused before anything is installed or started. */
describe('runBench option checks', () => {
  const base = { quick: true, install: false, log: () => undefined };

  it.each([
    [{ peers: [] as string[] }, '--peers names no peer; choose from direct'],
    [{ workloads: [] as string[] }, '--workloads names no workload; choose from keepalive'],
    [{ peers: ['varnish'] }, 'unknown peer "varnish"'],
    [{ workloads: ['stampede'] }, 'unknown workload "stampede"'],
    [{ idleCounts: [] as number[] }, '--idle-tunnels names no count'],
    [{ idleCounts: [4000, 0] }, '--idle-tunnels count must be a whole number from 1 to 9000 (each tunnel is two of the 20000 file descriptors a proxy may hold), got "0"'],
    [{ idleCounts: [9001] }, 'got "9001"'],
    [{ idleCounts: [1.5] }, 'got "1.5"'],
  ])('%j is an input error', async (sel, message) => {
    const err = await runBench({ ...base, ...sel }).then(() => undefined, (e: unknown) => e);
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toContain(message);
  });
});

test('a peer whose package could not be installed is skipped with the install failure as the reason, without trying to start it', async () => {
  expect(existsSync(cliPath())).toBe(true); // the bench upstream runs from dist/
  const asked: string[] = [];
  const r = await runBench({
    quick: true,
    install: true,
    peers: ['squid'],
    workloads: ['bulk1'],
    log: () => undefined,
    ensurePackages: (pkgs) => {
      asked.push(...pkgs.map((p) => p.pkg));
      return { squid: 'apt-get install squid failed: no network' };
    },
  });
  expect(asked).toEqual(['squid']);
  expect(r.peers).toEqual([{ name: 'squid', description: expect.any(String), status: 'skipped', reason: 'apt-get install squid failed: no network' }]);
  expect(r.bulk1).toEqual({});
  expect(r.errors).toEqual([]);
});

test('omsgw bench --idle-tunnels with a bad count exits 2 with one line naming it, before starting anything', () => {
  expect(existsSync(cliPath())).toBe(true);
  const r = spawnSync(process.execPath, [cliPath(), 'bench', '--no-install', '--workloads', 'idle', '--idle-tunnels', '4000,lots'], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('omsgw: --idle-tunnels count must be a whole number from 1 to 9000 (each tunnel is two of the 20000 file descriptors a proxy may hold), got "lots"\n');
  expect(r.stdout).toBe('');
});
