/**
 * Resources that run out are reported, not silent: out of file descriptors (a real process under a
 * real RLIMIT_NOFILE) and an event-log file that cannot be written (/dev/full) each give one event
 * 400 per episode, counted in Error Count, and the gateway keeps serving what it can.
 */
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../process.js';
import type { GatewayEvent } from '../index.js';
import { closed, connectRequest, eventually, rawRequest, readBytes, startTcpEcho, tempDir } from './support.js';

const fileEvents = (path: string): GatewayEvent[] =>
  readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as GatewayEvent);

async function apiJson<T>(gw: GatewayProcess, path: string): Promise<T> {
  return (await (await fetch(`${gw.adminUrl}${path}`)).json()) as T;
}

test('out of file descriptors: one 400 naming EMFILE and the limit, open tunnels keep working, recovery logged, new clients served again', async () => {
  const echo = await startTcpEcho();
  const { dir, cleanup } = tempDir();
  const eventFile = join(dir, 'events.jsonl');
  const gw = await spawnGateway(['--allow-host', 'example.test', '--host-map', `example.test=127.0.0.1:${echo.port}`, '--no-tls-inspection', '--event-log', eventFile], { openFilesLimit: 64 });
  const flood: net.Socket[] = [];
  try {
    // A tunnel opened before the descriptors run out.
    const tunnel = await rawRequest(gw.proxyPort, connectRequest('example.test:443'));
    expect(tunnel.status).toBe(200);
    tunnel.socket.resume();
    tunnel.socket.pause();

    // Idle connections until the process has no descriptor left (each costs the gateway one).
    for (let i = 0; i < 120; i++) {
      const s = net.connect(gw.proxyPort, '127.0.0.1');
      s.on('error', () => undefined);
      flood.push(s);
    }
    const exhausted = await eventually(() => fileEvents(eventFile).find((e) => e.id === 400 && e.fields?.resource === 'file-descriptors'), 'an event 400 for file descriptors', 15_000);
    expect(exhausted.message).toMatch(/Out of file descriptors \(EMFILE, limit 64\) with \d+ client connection\(s\) open/);

    // The tunnel from before still carries bytes both ways.
    tunnel.socket.write('still here');
    expect((await readBytes(tunnel.socket, 10)).toString()).toBe('still here');

    for (const s of flood) s.destroy();
    const recovery = await eventually(() => fileEvents(eventFile).find((e) => e.id === 100 && e.fields?.resource === 'file-descriptors'), 'the recovery event 100', 15_000);
    expect(recovery.message).toMatch(/File descriptors available again after [\d.]+ s \(EMFILE\)/);

    // Served again, and the episode counted once however many probes failed during it.
    const after = await rawRequest(gw.proxyPort, connectRequest('example.test:443'));
    expect(after.status).toBe(200);
    after.socket.destroy();
    const counters = await apiJson<{ errorCount: number }>(gw, '/api/counters');
    expect(counters.errorCount).toBe(1);
    expect(fileEvents(eventFile).filter((e) => e.id === 400)).toHaveLength(1);
    tunnel.socket.destroy();
    await closed(tunnel.socket);
  } finally {
    for (const s of flood) s.destroy();
    await gw.stop();
    await echo.close();
    cleanup();
  }
});

test('event log on /dev/full: one 400 (ENOSPC) via the API, counted once, and CONNECTs are still answered and logged in memory', async () => {
  const gw = await spawnGateway(['--allow-host', 'example.test', '--event-log', '/dev/full']);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await rawRequest(gw.proxyPort, connectRequest('forbidden.example:443'));
      expect(r.status).toBe(403);
      r.socket.destroy();
    }
    const { events } = await apiJson<{ events: GatewayEvent[] }>(gw, '/api/events');
    const problems = events.filter((e) => e.id === 400);
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/Event log file \/dev\/full cannot be written \(ENOSPC\)/);
    expect(events.filter((e) => e.id === 105)).toHaveLength(3);
    const counters = await apiJson<{ errorCount: number; rejectionCount: number }>(gw, '/api/counters');
    expect(counters).toMatchObject({ errorCount: 1, rejectionCount: 3 });
  } finally {
    await gw.stop();
  }
});
