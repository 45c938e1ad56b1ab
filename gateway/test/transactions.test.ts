/**
 * Management edits are transactions (issue 17, defects 1–5): each change applies exactly what was
 * asked, file edits lock, re-read, validate the whole file and replace it atomically (keeping links,
 * mode and line endings), nothing is written when validation fails, and 50 concurrent adds through
 * every path all survive.
 */
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import type { Gateway } from '../index.js';
import { loadServerAllowlist } from '../allowlist/allowlist-file.js';
import { eventsOf } from './support.js';
import { gatewayDirPerTest, omsgw } from './cli-support.js';

const work = gatewayDirPerTest();

function gatewayOnDir(dir: string): Promise<{ gw: Gateway; admin: string }> {
  return work.startOn(dir, 'ws9');
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a live host add applies only that host: a pending client-certificate file edit stays pending, and event 100 names only the host', async () => {
  const dir = join(work.dir, 'gw');
  const { gw, admin } = await gatewayOnDir(dir);
  expect(await omsgw('allowlist', 'add', '--client', 'CN=foo2', '--dir', dir)).toMatch(/added CN=foo2/);
  const since = gw.events.lastSeq;
  expect(await omsgw('allowlist', 'add', 'live2.example.com', '--admin', admin)).toMatch(/added live2\.example\.com: applies to new connections now/);
  expect(await omsgw('allowlist', 'list', '--client', '--admin', admin)).toBe('(empty: any client certificate is accepted)\n');
  expect(await omsgw('allowlist', 'list', '--admin', admin)).toMatch(/live2\.example\.com/);
  const e100 = eventsOf(gw, since).filter((e) => e.id === 100);
  expect(e100).toHaveLength(1);
  expect(e100[0].message).toMatch(/^server allowlist: added live2\.example\.com \(management API/);
  expect(e100[0].message).not.toMatch(/foo2/);
  expect(e100[0].fields).toMatchObject({ list: 'hosts', op: 'add', values: ['live2.example.com'] });
  // the pending edit is visible, and a reload applies it (and says exactly that)
  const cfg = (await (await fetch(`${admin}/api/config`)).json()) as { pending: { clientSubjects: { added: string[] } } };
  expect(cfg.pending.clientSubjects.added).toEqual(['CN=foo2']);
  expect(await omsgw('gateway', 'reload', '--admin', admin)).toBe('reloaded: client allowlist added: CN=foo2\n');
});

test('nothing is written when the file does not validate: a bad line refuses live and file adds alike', async () => {
  const dir = join(work.dir, 'gw');
  const { admin } = await gatewayOnDir(dir);
  const file = join(dir, 'allowedlist_server.txt');
  const bad = readFileSync(file, 'utf8') + 'not a host!\n';
  writeFileSync(file, bad);
  await expect(omsgw('allowlist', 'add', 'new.example.com', '--admin', admin)).rejects.toThrow(/line \d+: "not a host!" is not a valid host name .*nothing was changed/);
  expect(readFileSync(file, 'utf8')).toBe(bad);
  expect(await omsgw('allowlist', 'list', '--admin', admin)).not.toMatch(/new\.example\.com/);
  await expect(omsgw('allowlist', 'add', 'new.example.com', '--dir', dir)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/nothing was changed/) });
  expect(readFileSync(file, 'utf8')).toBe(bad);
});

test('an edit keeps a symbolic link a link (the shared target changes), the mode, and CRLF line endings', async () => {
  const dir = join(work.dir, 'gw');
  await omsgw('gateway', 'init', '--workspace', 'ws8', '--dir', dir);
  const shared = join(work.dir, 'shared-allowlist.txt');
  writeFileSync(shared, '# shared\r\nws8.oms.opinsights.azure.com\r\n');
  chmodSync(shared, 0o640);
  const link = join(dir, 'allowedlist_server.txt');
  const { unlinkSync } = await import('node:fs');
  unlinkSync(link);
  symlinkSync(shared, link);
  await omsgw('allowlist', 'add', 'b.example.com', '--dir', dir);
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(realpathSync(link)).toBe(realpathSync(shared));
  expect(readFileSync(shared, 'utf8')).toBe('# shared\r\nws8.oms.opinsights.azure.com\r\nb.example.com\r\n');
  expect(statSync(shared).mode & 0o777).toBe(0o640);
  await omsgw('allowlist', 'remove', 'ws8.oms.opinsights.azure.com', '--dir', dir);
  expect(readFileSync(shared, 'utf8')).toBe('# shared\r\nb.example.com\r\n');
  expect(statSync(shared).mode & 0o777).toBe(0o640);
});

describe('50 concurrent adds through each path all survive', () => {
  const hosts = Array.from({ length: 50 }, (_, i) => `h${i}.concurrent.example.com`);
  const expectAll = (file: string) => {
    const got = loadServerAllowlist(file);
    expect(hosts.filter((h) => !got.includes(h))).toEqual([]);
  };

  test('CLI on files (--dir), 50 processes', async () => {
    const dir = join(work.dir, 'gw');
    await omsgw('gateway', 'init', '--workspace', 'ws7', '--dir', dir);
    const results = await Promise.all(hosts.map((h) => runCli(['allowlist', 'add', h, '--dir', dir, '--timeout', '120'])));
    expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
    expectAll(join(dir, 'allowedlist_server.txt'));
  }, 180_000);

  test('CLI through the management API, 50 processes', async () => {
    const dir = join(work.dir, 'gw');
    const { admin } = await gatewayOnDir(dir);
    const results = await Promise.all(hosts.map((h) => runCli(['allowlist', 'add', h, '--admin', admin, '--timeout', '120'])));
    expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
    expectAll(join(dir, 'allowedlist_server.txt'));
    const live = ((await (await fetch(`${admin}/api/allowlist/hosts`)).json()) as { hosts: string[] }).hosts;
    expect(hosts.filter((h) => !live.includes(h))).toEqual([]);
  }, 180_000);

  test('HTTP API, 50 requests at once', async () => {
    const dir = join(work.dir, 'gw');
    const { admin } = await gatewayOnDir(dir);
    const answers = await Promise.all(hosts.map((host) => fetch(`${admin}/api/allowlist/hosts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host }) })));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expectAll(join(dir, 'allowedlist_server.txt'));
    const live = ((await (await fetch(`${admin}/api/allowlist/hosts`)).json()) as { hosts: string[] }).hosts;
    expect(hosts.filter((h) => !live.includes(h))).toEqual([]);
  }, 60_000);
});

describe('the edit lock', () => {
  test('an edit waits for another editor holding the lock, then re-reads: neither change is lost', async () => {
    const { editAllowlistFile } = await import('../allowlist/allowlist-file.js');
    const file = join(work.dir, 'allowedlist_server.txt');
    writeFileSync(file, 'a.example.com\n');
    // another editor (a live process) holds the lock while it writes its own change
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(`${file}.lock`, String(holder.pid));
      const mine = editAllowlistFile(file, 'hosts', 'add', ['mine.example.com']);
      let done = false;
      void mine.then(() => (done = true));
      await new Promise((r) => setTimeout(r, 200));
      expect(done).toBe(false); // still waiting for the lock: nothing read yet
      writeFileSync(file, 'a.example.com\ntheirs.example.com\n');
      const { unlinkSync } = await import('node:fs');
      unlinkSync(`${file}.lock`);
      expect((await mine).changed).toEqual(['mine.example.com']);
      expect(readFileSync(file, 'utf8')).toBe('a.example.com\ntheirs.example.com\nmine.example.com\n');
    } finally {
      holder.kill();
    }
  });

  test('a lock left by a process that is gone is taken over', async () => {
    const { editAllowlistFile } = await import('../allowlist/allowlist-file.js');
    const file = join(work.dir, 'allowedlist_server.txt');
    writeFileSync(file, 'a.example.com\n');
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(`${file}.lock`, String(gone.pid));
    expect((await editAllowlistFile(file, 'hosts', 'add', ['b.example.com'], { lockTimeoutMs: 2000 })).changed).toEqual(['b.example.com']);
    expect(readFileSync(file, 'utf8')).toBe('a.example.com\nb.example.com\n');
  });
});
