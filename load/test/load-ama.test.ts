/** omsgw load with a mixed fleet: Windows, Linux and Azure Monitor agents through one gateway (needs the build). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadReport } from '../runner.js';
import { runOmsgw } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-load-ama-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runCli = (args: string[]) => runOmsgw(args, { timeoutMs: 90_000 });

test('--mix windows=1,linux=1,ama=1: one of each, all up, every record ingested, the gateway counts each as a client', async () => {
  const json = join(dir, 'mixed.json');
  const r = await runCli(['load', '--agents', '3', '--mix', 'windows=1,linux=1,ama=1', '--duration', '1s', '--speed', '30', '--kb-per-upload', '5', '--json', json, '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
  expect(report.agents).toMatchObject({ count: 3, onboarded: 3, byOs: { windows: 1, linux: 1, ama: 1 } });
  expect(report.accuracy!.records).toMatchObject({ lost: 0, dropped: 0, queued: 0, ok: true });
  expect(report.accuracy!.records!.created).toBeGreaterThan(0);
  expect(report.accuracy!.records!.ingested).toBe(report.accuracy!.records!.created);
  const rows = Object.fromEntries(report.accuracy!.rows.map((x) => [x.counter, x]));
  expect(rows['Connected Client'].gateway).toBe(rows['Connected Client'].truth);
  expect(rows['Connected Client'].gateway).toBeGreaterThanOrEqual(3);
});

test('--mix with an unknown kind exits 2 naming the form', async () => {
  const r = await runCli(['load', '--mix', 'ama=1,macos=1']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--mix must look like windows=1,linux=1 (or windows=1,linux=1,ama=1 with Azure Monitor Agents)');
});
