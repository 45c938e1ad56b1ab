/** Issue 17's defects in the management commands, each reproduced from the CLI (defects 5, 6, 7, 10). */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { ensureStateDir } from '../../lib/state-dir.js';
import { parseClockFlag } from '../cli/run-options.js';
import type { Gateway, GatewayOptions } from '../index.js';
import { startSilentServer } from './support.js';
import { gatewayDirPerTest, omsgw } from './cli-support.js';

const work = gatewayDirPerTest();

async function gatewayOnDir(extra: GatewayOptions = {}): Promise<{ dir: string; admin: string; gw: Gateway }> {
  const dir = join(work.dir, 'gw');
  return { dir, ...(await work.startOn(dir, 'ws6', extra)) };
}

describe('5: a setting is applied live or refused with "restart required", and says which', () => {
  test('config set relayProxy "" and null on a live gateway apply "direct" now and save it', async () => {
    const { dir, admin } = await gatewayOnDir({ relayProxy: 'http://u:p@127.0.0.1:3128' });
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), relayProxy: 'http://u:p@127.0.0.1:3128' }));
    expect(await omsgw('config', 'set', 'relayProxy', '', '--admin', admin)).toBe('relayProxy applied: new connections use it now\n');
    expect((await omsgw('relay-proxy', 'get', '--admin', admin)).trim()).toBe('(none: direct connections)');
    expect(JSON.parse(readFileSync(file, 'utf8')).relayProxy).toBeUndefined();
    await omsgw('relay-proxy', 'set', '--address', 'http://127.0.0.1:3129', '--username', 'solo', '--admin', admin);
    expect((await omsgw('relay-proxy', 'get', '--admin', admin)).trim()).toBe('http://127.0.0.1:3129 (user solo, no password)');
    expect(await omsgw('config', 'set', 'relayProxy', 'null', '--admin', admin)).toBe('relayProxy applied: new connections use it now\n');
    expect((await omsgw('relay-proxy', 'get', '--admin', admin)).trim()).toBe('(none: direct connections)');
    await expect(omsgw('config', 'set', 'maxConnections', '5', '--admin', admin)).rejects.toThrow(/"maxConnections" cannot change on a running gateway: restart required/);
  });

  test('relay-proxy set --dir is applied by reload; config set maxConnections --dir says restart required and stays pending', async () => {
    const { dir, admin, gw } = await gatewayOnDir();
    expect(await omsgw('relay-proxy', 'set', '--address', 'http://127.0.0.1:3128', '--dir', dir)).toMatch(/relay proxy http:\/\/127\.0\.0\.1:3128: saved in .*gateway\.json; a running gateway applies it on `omsgw gateway reload`/);
    expect(await omsgw('config', 'set', 'maxConnections', '5', '--dir', dir)).toMatch(/maxConnections saved in .*gateway\.json; restart required/);
    expect(await omsgw('config', 'get', 'maxConnections', '--admin', admin)).toBe('10000  (pending: 5 saved, not live; restart required)\n');
    expect(await omsgw('gateway', 'reload', '--admin', admin)).toBe('reloaded: relayProxy: (none) -> http://127.0.0.1:3128 (saved but not applied, restart required: maxConnections)\n');
    expect((await omsgw('relay-proxy', 'get', '--admin', admin)).trim()).toBe('http://127.0.0.1:3128');
    expect(gw.config.maxConnections).toBe(10000);
    expect(gw.events.list({ ids: [100] }).at(-1)!.fields).toMatchObject({ settings: { relayProxy: { from: undefined, to: 'http://127.0.0.1:3128' } }, restartRequired: ['maxConnections'] });
  });
});

describe('6: every management call has a time limit', () => {
  test.each([
    [['counters']],
    [['events']],
    [['events', '--follow']],
    [['config', 'get']],
    [['allowlist', 'add', 'x.example.com']],
    [['gateway', 'reload']],
    [['gateway', 'status']],
  ])('%j against a port that accepts and never answers: InputError after --timeout', async (args) => {
    const silent = await startSilentServer();
    try {
      await expect(omsgw(...args, '--admin', `http://127.0.0.1:${silent.port}`, '--timeout', '0.3')).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/^no answer from the gateway management API at http:\/\/127\.0\.0\.1:\d+ within 0\.3 s/) });
    } finally {
      await silent.close();
    }
  });

  test('--timeout must be a positive number of seconds', async () => {
    await expect(omsgw('counters', '--timeout', '0')).rejects.toThrow(/--timeout must be a number of seconds above 0/);
    await expect(omsgw('counters', '--timeout', 'soon')).rejects.toThrow(/--timeout must be a number of seconds above 0/);
  });
});

describe('7: events --file problems are one-line InputErrors', () => {
  let socketServer: Server | undefined;
  afterEach(() => socketServer?.close());

  test('missing, a folder, unreadable (a socket), not JSON, and a line without a message', async () => {
    await expect(omsgw('events', '--file', join(work.dir, 'none.jsonl'))).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/none\.jsonl does not exist/) });
    await expect(omsgw('events', '--file', work.dir)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/is a folder, not a file/) });
    const sock = join(work.dir, 'events.sock');
    socketServer = createServer();
    await new Promise<void>((r) => socketServer!.listen(sock, r));
    await expect(omsgw('events', '--file', sock)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/events\.sock cannot be read/) });
    const bad = join(work.dir, 'bad.jsonl');
    writeFileSync(bad, 'not json\n');
    await expect(omsgw('events', '--file', bad)).rejects.toMatchObject({ name: 'InputError', message: `${bad} line 1 is not a JSON event` });
    writeFileSync(bad, JSON.stringify({ seq: 1, id: 101, level: 'info', time: '2016-03-01T00:00:00Z', message: 'ok' }) + '\n' + JSON.stringify({ seq: 2, id: 105 }) + '\n');
    await expect(omsgw('events', '--file', bad)).rejects.toMatchObject({ name: 'InputError', message: `${bad} line 2 is not a gateway event (needs "seq", "id", "time" and "message")` });
  });
});

describe('10: smaller defects', () => {
  test('events --follow --file prints lines appended later, until Ctrl-C', async () => {
    const file = join(work.dir, 'events.jsonl');
    const line = (seq: number) => JSON.stringify({ seq, id: 105, level: 'warning', time: '2016-03-01T00:00:00.000Z', message: `event ${seq}` }) + '\n';
    writeFileSync(file, line(1));
    const child = spawn(process.execPath, [cliPath(), 'events', '--follow', '--file', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let exited: number | null | undefined;
    const waiters: Array<() => void> = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      waiters.splice(0).forEach((w) => w());
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r((exited = code))));
    const seen = async (n: number): Promise<void> => {
      while (!out.includes(`event ${n}`)) {
        if (exited !== undefined) throw new Error(`exited ${exited} before event ${n}: ${out}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), exit]);
      }
    };
    await seen(1);
    appendFileSync(file, line(2));
    await seen(2);
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(2);
  });

  test('allowlist remove of an absent entry exits 2 (files and API)', async () => {
    const { dir, admin } = await gatewayOnDir();
    await expect(omsgw('allowlist', 'remove', 'absent.example.com', '--dir', dir)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/absent\.example\.com is not in .*allowedlist_server\.txt; nothing was changed/) });
    await expect(omsgw('allowlist', 'remove', 'absent.example.com', '--admin', admin)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/absent\.example\.com is not in the list/) });
  });

  test('--clock manual=2016-02-30 is refused instead of becoming March 1st', () => {
    expect(() => parseClockFlag('manual=2016-02-30T00:00:00Z')).toThrow(/"2016-02-30T00:00:00Z" is not a real date \(that month has no such day\)/);
    expect(parseClockFlag('manual=2016-02-29T00:00:00Z').clock.now()).toBe(Date.parse('2016-02-29T00:00:00Z'));
  });

  test('a state folder is created one level deep at most (--key-cache /missing/x does not create /missing)', () => {
    const deep = join(work.dir, 'missing', 'x');
    expect(() => ensureStateDir(deep, '--key-cache')).toThrow(/--key-cache .*: .*missing does not exist; create it first/);
    expect(existsSync(join(work.dir, 'missing'))).toBe(false);
    mkdirSync(join(work.dir, 'missing'));
    expect(ensureStateDir(deep, '--key-cache')).toBe(deep);
    expect(existsSync(deep)).toBe(true);
  });

  test('cloud --state-dir /proc/nope exits 2 with one line instead of hanging', () => {
    const r = spawnSync(process.execPath, [cliPath(), 'cloud', '--state-dir', '/proc/nope'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^omsgw: state folder for the lab CA \/proc\/nope: cannot create \/proc\/nope \(ENOENT\)\n$/);
  });
});
