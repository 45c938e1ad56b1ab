/** The event-log file: bounded by rotation like the Windows log, and a disk that fails is reported once, not silently. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EventLog, type GatewayEvent } from '../events/event-log.js';
import { packageRoot } from '../../lib/paths.js';
import { spawnGateway, GatewayStartError } from '../process.js';
import { tempDir } from './support.js';

const readLines = (path: string): GatewayEvent[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as GatewayEvent);

describe('event log file rotation', () => {
  test('past the size limit it rotates to .1 ... .keep; kept files hold the newest events in order, each under the limit', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'events.jsonl');
      const log = new EventLog({ file, fileMaxBytes: 2000, fileKeep: 2 });
      log.open();
      for (let i = 0; i < 200; i++) log.log(103, `Got request ${i}: CONNECT host-${i}.example.test:443`);
      await log.close();
      expect(existsSync(`${file}.1`)).toBe(true);
      expect(existsSync(`${file}.2`)).toBe(true);
      expect(existsSync(`${file}.3`)).toBe(false);
      for (const f of [file, `${file}.1`, `${file}.2`]) expect(statSync(f).size).toBeLessThanOrEqual(2000);
      const kept = [...readLines(`${file}.2`), ...readLines(`${file}.1`), ...readLines(file)];
      const seqs = kept.map((e) => e.seq);
      expect(seqs[seqs.length - 1]).toBe(200);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
      expect(seqs[0]).toBeGreaterThan(1); // the oldest were rotated away
    } finally {
      cleanup();
    }
  });

  test('keep 0: one file, never past the limit, holding the newest events', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'events.jsonl');
      const log = new EventLog({ file, fileMaxBytes: 1500, fileKeep: 0 });
      log.open();
      for (let i = 0; i < 100; i++) log.log(107, `TLS session ${i} verified`);
      await log.close();
      expect(existsSync(`${file}.1`)).toBe(false);
      expect(statSync(file).size).toBeLessThanOrEqual(1500);
      expect(readLines(file).at(-1)!.seq).toBe(100);
    } finally {
      cleanup();
    }
  });

  test('appending to an existing file counts its size (a restart does not reset the bound)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'events.jsonl');
      const first = new EventLog({ file, fileMaxBytes: 1000, fileKeep: 1 });
      first.open();
      for (let i = 0; i < 6; i++) first.log(100, `generation one ${i}`);
      await first.close();
      const second = new EventLog({ file, fileMaxBytes: 1000, fileKeep: 1 });
      second.open();
      for (let i = 0; i < 6; i++) second.log(100, `generation two ${i}`);
      await second.close();
      expect(statSync(file).size).toBeLessThanOrEqual(1000);
      expect(readFileSync(`${file}.1`, 'utf8')).toContain('generation one');
    } finally {
      cleanup();
    }
  });
});

describe('a disk that fails', () => {
  test('/dev/full (ENOSPC): one event 400 naming the file and the error; every event stays in the ring', async () => {
    const log = new EventLog({ file: '/dev/full' });
    log.open();
    for (let i = 0; i < 5; i++) log.log(103, `request ${i}`);
    await log.close();
    const events = log.list();
    const problems = events.filter((e) => e.id === 400);
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/Event log file \/dev\/full cannot be written \(ENOSPC\): events are kept only in memory/);
    expect(problems[0].fields).toMatchObject({ resource: 'event-log-file', code: 'ENOSPC' });
    // The 400 follows the first event whose write failed.
    expect(events.map((e) => e.id)).toEqual([103, 400, 103, 103, 103, 103]);
  });

  test('a write that fails and then succeeds again (file size limit, then the file truncated): 400 once, then 100 with the lost count', () => {
    // RLIMIT_FSIZE makes writes past 1500 bytes fail with EFBIG (Node ignores SIGXFSZ); truncating the
    // file (as an operator freeing space would) lets the next append succeed.
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'events.jsonl');
      const script = `
        const { EventLog } = await import(${JSON.stringify(join(packageRoot(), 'dist', 'gateway', 'events', 'event-log.js'))});
        const { truncateSync } = await import('node:fs');
        const log = new EventLog({ file: ${JSON.stringify(file)} });
        log.open();
        let i = 0;
        while (!log.list().some((e) => e.id === 400) && i < 1000) log.log(103, 'request ' + i++);
        log.log(103, 'lost while full');
        truncateSync(${JSON.stringify(file)}, 0);
        log.log(107, 'after space was freed');
        await log.close();
        process.stdout.write(JSON.stringify(log.list()));`;
      const out = execFileSync('prlimit', ['--fsize=1500', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
      const events = JSON.parse(out) as GatewayEvent[];
      expect(events.filter((e) => e.id === 400)).toHaveLength(1);
      expect(events.find((e) => e.id === 400)!.fields).toMatchObject({ code: 'EFBIG' });
      const recovery = events.filter((e) => e.id === 100);
      expect(recovery).toHaveLength(1);
      // The failed write that opened the episode, the 400 itself and "lost while full".
      expect(recovery[0].message).toMatch(/is writable again after [\d.]+ s \(EFBIG\); 3 event\(s\) could not be written/);
      const inFile = readLines(file).map((e) => e.message);
      // The first write that succeeds is the event that found the disk writable; the recovery follows it.
      expect(inFile).toEqual(['after space was freed', expect.stringMatching(/is writable again/)]);
    } finally {
      cleanup();
    }
  });
});

describe('flags --event-log-max-size and --event-log-keep', () => {
  test('a gateway started with a small size rotates its file, keeping the number asked for', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'events.jsonl');
    const gw = await spawnGateway(['--allow-host', 'example.test', '--event-log', file, '--event-log-max-size', '1KiB', '--event-log-keep', '1']);
    try {
      for (let i = 0; i < 12; i++) await fetch(`${gw.adminUrl}/api/reload`, { method: 'POST' });
      await gw.stop();
      expect(statSync(file).size).toBeLessThanOrEqual(1024);
      expect(existsSync(`${file}.1`)).toBe(true);
      expect(existsSync(`${file}.2`)).toBe(false);
    } finally {
      cleanup();
    }
  });

  test.each([
    [['--event-log-max-size', '12XB'], /--event-log-max-size must be a size such as 16MiB, 500kB or 1048576/],
    [['--event-log-max-size', '-5'], /--event-log-max-size must be a size/],
    [['--event-log-keep', '101'], /--event-log-keep must be an integer from 0 to 100, got "101"/],
  ])('%j exits 2 naming the flag', async (args, message) => {
    const err = await spawnGateway(['--allow-host', 'example.test', ...args]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayStartError);
    expect((err as InstanceType<typeof GatewayStartError>).code).toBe(2);
    expect((err as InstanceType<typeof GatewayStartError>).stderr).toMatch(message);
  });
});
