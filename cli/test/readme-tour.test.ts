/**
 * The README's "CLI tour" runs as written: each ```sh block in order, in an empty temp folder, with
 * `omsgw` on PATH the way `npm link` puts it there (here a shim running dist/cli/omsgw.js).
 * The one change: the README's fixed ports (9443, 9444, 8080, 8081) become free ports, and
 * OMSGW_ADMIN_URL (documented) stands for the default management URL on the replaced port.
 * Blocks marked "keeps running" are started in the background until they print their ready line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, packageRoot } from '../../lib/paths.js';
import { freeLoopbackPort } from '../../harness/free-port.js';

function tourBlocks(): string[] {
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const start = readme.indexOf('## CLI tour: the gateway');
  const end = readme.indexOf('\n## ', start + 1);
  if (start < 0 || end < 0) throw new Error('README.md has no "## CLI tour: the gateway" section');
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

let work: string;
const background: ChildProcess[] = [];
afterAll(async () => {
  for (const child of background) {
    if (child.exitCode !== null || child.pid === undefined) continue;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

test('the README CLI tour runs block by block, and shows what it says it shows', async () => {
  work = mkdtempSync(join(tmpdir(), 'omsgw-tour-'));
  const bin = join(work, '.bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'omsgw'), `#!/bin/sh\nexec "${process.execPath}" "${cliPath()}" "$@"\n`);
  chmodSync(join(bin, 'omsgw'), 0o755);
  const ports = new Map<string, number>();
  for (const fixed of ['9443', '9444', '8080', '8081']) ports.set(fixed, await freeLoopbackPort());
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, OMSGW_ADMIN_URL: `http://127.0.0.1:${ports.get('8081')}` };
  delete env.OMSGW_ADMIN_TOKEN;
  const blocks = tourBlocks().map((b) => b.replace(/\b(9443|9444|8080|8081)\b/g, (p) => String(ports.get(p))));
  expect(blocks.length).toBeGreaterThanOrEqual(5);

  const outputs: string[] = [];
  for (const [i, block] of blocks.entries()) {
    if (/^# terminal \d \(keeps running\)/.test(block)) {
      const child = spawn('bash', ['-e', '-c', block], { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      background.push(child);
      let out = '';
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (/^omsgw-(cloud|gateway)-ready /m.test(out)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`block ${i + 1} exited (${code}) before it was ready:\n${block}\n${out}${err}`)));
      });
      outputs.push(out);
      continue;
    }
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', block], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    if (r.code !== 0) throw new Error(`README tour block ${i + 1} exited ${r.code}:\n${block}\n--- output ---\n${r.out}`);
    outputs.push(r.out);
  }
  const all = outputs.join('\n');
  // what the tour's comments promise
  expect(all).toMatch(/export WS=[0-9a-f-]{36}/);
  expect(all).toMatch(/the Linux agent is refused: the 2016 allowlist bug/);
  expect(all).toMatch(/105 {2}Target host \(scus-agentservice-prod-1\.azure-automation\.net\) is forbidden/);
  const ws = /export WS=([0-9a-f-]{36})/.exec(all)![1];
  expect(all).toMatch(new RegExp(`client allowlist +\\(absent\\) +CN=${ws}`));
  expect(all).toMatch(/every fake-cloud host is covered by the host map or relay/);
  expect(all).toContain(`reloaded: client allowlist added: CN=${ws}`);
  expect(all).toMatch(/maxConnections saved in .*gateway\.json; restart required/);
  expect(all).toMatch(/^10000 {2}\(pending: 500 saved, not live; restart required\)$/m);
}, 240_000);
