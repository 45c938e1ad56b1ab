/**
 * A distributed load run on one machine, as deploy/kubernetes runs it on many: one `omsgw cloud`
 * process (shared fake cloud + lab API), one `omsgw gateway` process relaying to it, three
 * `omsgw load --shard k/3` processes publishing their results, then `omsgw load merge` — from the
 * lab API and from the JSON files — whose counters must equal the shards' summed truths.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { spawnReady, type ReadyChild } from '../../harness/child.js';
import { spawnGateway, type GatewayProcess } from '../../gateway/process.js';
import type { MergedReport } from '../shard/merge.js';
import type { LoadReport } from '../report/types.js';
import { runOmsgw } from './helpers.js';

jest.setTimeout(240_000);

interface CloudReady { port: number; adminPort: number; proxyUrl: string; hostMap: string[] }

const omsgw = (args: string[]) => runOmsgw(args);

const workspace = `${randomUUID()}:${randomBytes(64).toString('base64')}`;
let dir: string;
let cloud: ReadyChild<CloudReady>;
let gw: GatewayProcess;
let lab: string;
const files = [1, 2, 3].map((k) => `shard-${k}.json`);
const shardRuns: Array<{ code: number; stdout: string; stderr: string }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omsgw-shards-'));
  cloud = await spawnReady<CloudReady>(process.execPath, [cliPath(), 'cloud', '--listen-host', '127.0.0.1', '--port', '0', '--admin-port', '0', '--state-dir', join(dir, 'cloud'), '--workspace', workspace, '--json'], { prefix: 'omsgw-cloud-ready' });
  lab = `http://127.0.0.1:${cloud.info.adminPort}`;
  // As in deploy/kubernetes/gateway.yaml: the fake cloud is the gateway's relay proxy.
  const allow = cloud.info.hostMap.flatMap((e) => ['--allow-host', e.slice(0, e.indexOf('='))]);
  gw = await spawnGateway(['--listen-host', '127.0.0.1', '--relay-proxy', cloud.info.proxyUrl, '--quiet', ...allow], { cwd: dir });
  const runs = [1, 2, 3].map((k) =>
    omsgw(['load', '--shard', `${k}/3`, '--run-id', 'test-run', '--cloud', lab, '--workspace', workspace, '--gateway', `127.0.0.1:${gw.proxyPort}`,
      '--agents', '4', '--duration', '1500ms', '--interval', '1s', '--kb-per-upload', '4', '--publish', lab, '--json', join(dir, files[k - 1]), '--quiet']),
  );
  shardRuns.push(...(await Promise.all(runs)));
});

afterAll(async () => {
  await gw?.stop();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const read = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

test('each shard ran its own disjoint agents against the shared cloud and gateway, and published', () => {
  for (const [i, r] of shardRuns.entries()) {
    expect({ shard: i + 1, code: r.code, stderr: r.stderr }).toEqual({ shard: i + 1, code: 0, stderr: '' });
    expect(r.stdout).toContain(`published shard ${i + 1}/3 of run test-run`);
    expect(r.stdout).toMatch(/not checked: counters not compared by this shard/);
  }
  const reports = files.map((f) => read<LoadReport>(f));
  expect(reports.map((r) => r.shard)).toEqual([1, 2, 3].map((index) => ({ index, count: 3, runId: 'test-run' })));
  // Each shard saw its own 4 sources; that they are disjoint (127.(9+k).x) shows at the gateway: 12 clients in the merge test.
  for (const r of reports) {
    expect(r.accuracy).toBeNull();
    expect(r.timeline[r.timeline.length - 1].truth.distinctSources).toBe(4);
    expect(r.options.seed).toBe('omsgw-load');
    expect(r.agents!.cpu!.simulatorCpuMs).toBeGreaterThan(0);
    expect(r.throughput.requests).toBeGreaterThanOrEqual(4);
    expect(r.ok).toBe(true);
  }
});

test('merge --from the lab API: nothing lost, and the gateway counters equal the summed truths', async () => {
  const r = await omsgw(['load', 'merge', '--from', lab, '--run-id', 'test-run', '--shards', '3', '--admin', gw.adminUrl!, '--json', join(dir, 'merged.json')]);
  expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 0, stderr: '', stdout: expect.stringMatching(/RESULT: ok/) });
  const m = read<MergedReport>('merged.json');
  const shards = files.map((f) => read<LoadReport>(f));
  const created = shards.reduce((n, s) => n + s.options.count, 0);
  expect(m.agents).toBe(created);
  expect(m.records.created).toBe(shards.reduce((n, s) => n + (s.throughput.recordsIngested ?? 0), 0));
  expect(m.records).toMatchObject({ ingested: m.records.created, lost: 0, dropped: 0, queued: 0, ok: true });
  expect(m.records.created).toBeGreaterThan(0);
  // 12 agents from 12 distinct addresses, all closed; nothing rejected or failed on purpose.
  expect(m.truth).toEqual({ openConnections: 0, distinctSources: 12, rejectionsCaused: 0, errorsCaused: 0 });
  expect(m.gateway).toEqual({ activeClientConnections: 0, connectedClients: 12, rejectionCount: 0, errorCount: 0 });
  // The shared cloud's ledger holds exactly the records the three shards account for.
  const ledger = (await (await fetch(`${lab}/_lab/ingested`)).json()) as { entries: Array<{ recordIds: string[] }> };
  expect(new Set(ledger.entries.flatMap((e) => e.recordIds)).size).toBe(m.records.ingested);
  expect(r.stdout).toMatch(/RESULT: ok/);
});

test('merge of the JSON files gives the same counters; a changed truth is caught (positive control)', async () => {
  const ok = await omsgw(['load', 'merge', ...files.map((f) => join(dir, f)), '--admin', gw.adminUrl!, '--json', join(dir, 'merged-files.json')]);
  expect(ok.code).toBe(0);
  expect(read<MergedReport>('merged-files.json').rows.map((row) => [row.gateway, row.truth])).toEqual([[0, 0], [12, 12], [0, 0], [0, 0]]);
  const tampered = read<LoadReport>(files[2]);
  tampered.timeline[tampered.timeline.length - 1].truth.distinctSources += 1;
  writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered));
  const bad = await omsgw(['load', 'merge', join(dir, files[0]), join(dir, files[1]), join(dir, 'tampered.json'), '--admin', gw.adminUrl!, '--settle', '0']);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toMatch(/Connected Client: gateway 12, distinct source addresses, summed over 3 shards 13/);
});

describe('bad input exits 2 with what to fix', () => {
  const altered = (name: string, change: (r: LoadReport) => void): string => {
    const r = read<LoadReport>(files[1]);
    change(r);
    writeFileSync(join(dir, name), JSON.stringify(r));
    return join(dir, name);
  };
  test.each([
    ['a duplicate shard', () => [files[0], files[1], files[1]].map((f) => join(dir, f)), /shard 2\/3 of run test-run is given twice/],
    ['a missing shard', () => [files[0], files[1]].map((f) => join(dir, f)), /missing shard\(s\) 3 of 3/],
    ['a different run', () => [join(dir, files[0]), altered('other-run.json', (r) => void (r.shard!.runId = 'other')), join(dir, files[2])], /results of different runs: .* is run test-run, .* is run other/],
    ['a different seed', () => [join(dir, files[0]), altered('other-seed.json', (r) => void (r.options.seed = 's2')), join(dir, files[2])], /shards used different --seed values/],
  ])('merge with %s', async (_name, args, message) => {
    const r = await omsgw(['load', 'merge', ...(args as () => string[])()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });

  test('a URL that is not an omsgw cloud (the gateway management API), for merge --from and load --cloud', async () => {
    const merge = await omsgw(['load', 'merge', '--from', gw.adminUrl!, '--run-id', 'test-run']);
    expect(merge.code).toBe(2);
    expect(merge.stderr).toMatch(/--from http:\/\/127\.0\.0\.1:\d+ is not an omsgw cloud's lab API \(GET \/_lab\/info answered 404/);
    const load = await omsgw(['load', '--shard', '1/2', '--run-id', 'x', '--cloud', gw.adminUrl!, '--workspace', workspace, '--gateway', `127.0.0.1:${gw.proxyPort}`]);
    expect(load.code).toBe(2);
    expect(load.stderr).toMatch(/--cloud .* is not an omsgw cloud's lab API/);
  });

  test.each([
    [['--shard', '0/3', '--run-id', 'r'], /--shard 0\/3: k must be between 1 and 3/],
    [['--shard', '4/3', '--run-id', 'r'], /--shard 4\/3: k must be between 1 and 3/],
    [['--shard', 'a/b', '--run-id', 'r'], /--shard must be k\/n with whole numbers/],
    [['--shard', '1/3'], /--shard needs --run-id/],
    [['--shard', '1/3', '--run-id', 'r', '--gateway', '127.0.0.1:1'], /--shard needs --cloud/],
  ])('omsgw load %j', async (args, message) => {
    const r = await omsgw(['load', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('a workspace the cloud does not serve', async () => {
    const other = `${randomUUID()}:${randomBytes(64).toString('base64')}`;
    const r = await omsgw(['load', '--shard', '1/2', '--run-id', 'x', '--cloud', lab, '--workspace', other, '--gateway', `127.0.0.1:${gw.proxyPort}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workspace .* is not served by the cloud/);
  });
});
