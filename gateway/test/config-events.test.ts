import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.js';
import { resolveRunOptions, parseClockFlag } from '../cli/run-options.js';
import { loadConfigFile } from '../config/load.js';
import { EventLog, formatEvent } from '../events/event-log.js';
import { createGateway } from '../index.js';
import { tempDir } from './support.js';

let work: ReturnType<typeof tempDir>;
beforeEach(() => {
  work = tempDir();
});
afterEach(() => work.cleanup());

describe('configuration', () => {
  test.each([
    [{ listenPort: 'text' }, /"listenPort" must be a port number \(integer\) from 0 to 65535, got "text"/],
    [{ listenPort: 70000 }, /"listenPort" must be a port number/],
    [{ listenHost: 'example.com' }, /"listenHost" must be an IP address/],
    [{ allowedPorts: [] }, /"allowedPorts" must be a non-empty list of port numbers/],
    [{ hostMap: ['x=1.2.3.4'] }, /"hostMap"\[0\]: host map entry "x=1.2.3.4": target must be ip:port/],
    [{ relayProxy: 'ftp://p:1' }, /"relayProxy" must use http:\/\//],
    [{ proxyAuth: 'nopass' }, /"proxyAuth" must be "user:password"/],
    [{ connectedClientsResetTime: '25:00' }, /"connectedClientsResetTime" must be a UTC time of day/],
    [{ tls: { minVersion: 'SSLv3' } }, /tls.*minVersion/],
    [{ listenPrt: 1 }, /"listenPrt" is not a known setting/],
    [{ maxConnections: 0 }, /"maxConnections" must be an integer from 1/],
  ])('gateway.json %j is refused naming the key', (raw, message) => {
    const file = join(work.dir, 'gateway.json');
    writeFileSync(file, JSON.stringify(raw));
    expect(() => loadConfigFile(file)).toThrow(message);
  });

  test('invalid JSON and unreadable files', () => {
    const file = join(work.dir, 'gateway.json');
    writeFileSync(file, '{ "listenPort": 80, }');
    expect(() => loadConfigFile(file)).toThrow(/is not valid JSON/);
    expect(() => loadConfigFile(join(work.dir, 'missing.json'))).toThrow(/cannot be read: ENOENT/);
  });

  test('flags win over the file; relative paths in the file are relative to it', () => {
    const file = join(work.dir, 'gateway.json');
    writeFileSync(join(work.dir, 'hosts.txt'), 'a.example.test\n');
    writeFileSync(file, JSON.stringify({ listenPort: 8080, allowlistFile: 'hosts.txt', hostMap: ['a.example.test=127.0.0.1:1'] }));
    const o = resolveRunOptions({ config: file, listenPort: '0', hostMap: ['b.example.test=127.0.0.1:2'] });
    expect(o).toMatchObject({ listenPort: 0, allowlistFile: join(work.dir, 'hosts.txt'), hostMap: ['a.example.test=127.0.0.1:1', 'b.example.test=127.0.0.1:2'], configFile: file });
  });

  test.each([
    [{ listenPort: 'text', allowHost: ['a.example.test'] }, /--listen-port must be an integer from 0 to 65535, got "text"/],
    [{ adminPort: '-1', allowHost: ['a.example.test'] }, /--admin-port must be an integer from 0 to 65535/],
    [{ listenHost: 'my-host', allowHost: ['a.example.test'] }, /--listen-host must be an IP address/],
    [{ hostMap: ['oops'], allowHost: ['a.example.test'] }, /--host-map: host map entry "oops" must be host=ip:port/],
    [{ relayProxy: 'http://h:1/x', allowHost: ['a.example.test'] }, /--relay-proxy must be http:\/\/\[user:pass@\]host:port with no path/],
    [{ resetTime: 'noon', allowHost: ['a.example.test'] }, /--reset-time must be a UTC time of day/],
    [{}, /no server allowlist: give --allowlist/],
    [{ dir: '/nonexistent/omsgw' }, /--dir \/nonexistent\/omsgw does not exist/],
  ])('flags %j are refused with a clear message', (flags, message) => {
    expect(() => resolveRunOptions(flags)).toThrow(message);
  });

  test('--clock', () => {
    expect(parseClockFlag(undefined).manual).toBe(false);
    const m = parseClockFlag('manual=2016-03-01T23:59:00Z');
    expect(m.manual).toBe(true);
    expect(m.clock).toBeInstanceOf(ManualClock);
    expect(m.clock.now()).toBe(Date.UTC(2016, 2, 1, 23, 59));
    expect(() => parseClockFlag('fast')).toThrow(/--clock must be "system", "manual" or "manual=<ISO time>"/);
    expect(() => parseClockFlag('manual=yesterday')).toThrow(/not an ISO time/);
  });

  test('an unreadable allowlist file is an InputError at creation, before anything listens', () => {
    expect(() => createGateway({ listenPort: 0, adminPort: null, allowlistFile: join(work.dir, 'nope.txt') })).toThrow(/server allowlist .*nope\.txt cannot be read: ENOENT/);
    writeFileSync(join(work.dir, 'bad.txt'), 'good.example\n*.x*.y\n');
    expect(() => createGateway({ listenPort: 0, adminPort: null, allowlistFile: join(work.dir, 'bad.txt') })).toThrow(/bad\.txt line 2/);
  });

  test('a busy port is reported as such and nothing stays half-started', async () => {
    const a = createGateway({ listenPort: 0, adminPort: null, allowlist: ['a.example.test'] });
    await a.start();
    const b = createGateway({ listenPort: a.proxyAddress.port, adminPort: null, allowlist: ['a.example.test'] });
    await expect(b.start()).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE \(port in use; choose another with --listen-port\)/);
    await a.close();
  });
});

describe('event log', () => {
  test('bounded ring with increasing seq; filters; JSON-lines file flushed on close', async () => {
    const file = join(work.dir, 'events.jsonl');
    const clock = new ManualClock(Date.UTC(2016, 2, 1, 9, 0, 0));
    const log = new EventLog({ capacity: 3, clock, file });
    log.open();
    const seen: number[] = [];
    log.on('event', (e) => seen.push(e.seq));
    log.log(101, 'started');
    log.log(103, 'Got request from 127.0.0.1:5000: CONNECT a:443 HTTP/1.1\nHost: a:443', { clientIp: '127.0.0.1', clientPort: 5000, target: 'a:443', connectionId: 1 });
    log.log(105, 'Target host (a) is forbidden', { connectionId: 1 });
    log.log(102, 'stopped');
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(log.list().map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(log.list({ ids: [103, 105] }).map((e) => e.id)).toEqual([103, 105]);
    expect(log.list({ since: 3 }).map((e) => e.id)).toEqual([102]);
    expect(log.list({ limit: 1 }).map((e) => e.id)).toEqual([102]);
    expect(log.list()[0]).toMatchObject({ level: 'info', time: '2016-03-01T09:00:00.000Z' });
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(formatEvent(lines[1])).toBe('2016-03-01T09:00:00.000Z  info     103  Got request from 127.0.0.1:5000: CONNECT a:443 HTTP/1.1  [conn=1]\n      Host: a:443');
  });

  test('an event log file that cannot be opened is an InputError', () => {
    const log = new EventLog({ file: join(work.dir, 'no-such-dir', 'e.jsonl') });
    expect(() => log.open()).toThrow(/cannot be opened for appending/);
  });
});
