/** `omsgw gateway init --agent ama|all`: the documented Azure Monitor Agent hosts in allowedlist_server.txt. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInputError } from '../../lib/errors.js';
import { initGatewayDir } from '../init.js';
import { omsgw } from './cli-support.js';
import { tempDir } from './support.js';

const WS = '4f1e2d3c-5b6a-4789-8abc-0d1e2f3a4b5c';
let work: ReturnType<typeof tempDir>;
beforeEach(() => {
  work = tempDir();
});
afterEach(() => work.cleanup());

const listed = async (dir: string) => (await omsgw('allowlist', 'list', '--dir', dir)).trim().split('\n');

test('--agent ama writes the global and regional handlers and the ODS host, nothing else', async () => {
  const dir = join(work.dir, 'gw');
  const out = await omsgw('gateway', 'init', '--workspace', WS, '--dir', dir, '--agent', 'ama', '--region', 'westus2');
  expect(out).toContain(`allowed hosts: global.handler.control.monitor.azure.com, westus2.handler.control.monitor.azure.com, ${WS}.ods.opinsights.azure.com`);
  expect(await listed(dir)).toEqual(['global.handler.control.monitor.azure.com', 'westus2.handler.control.monitor.azure.com', `${WS}.ods.opinsights.azure.com`]);
  expect(readFileSync(join(dir, 'allowedlist_server.txt'), 'utf8')).toMatch(/^# Azure Monitor Agent/);
});

test('--agent all: the 2016 list and the AMA hosts, the shared ODS host once; --dce adds its handler and ingestion hosts', async () => {
  const dir = join(work.dir, 'gw');
  await omsgw('gateway', 'init', '--workspace', WS, '--dir', dir, '--agent', 'all', '--dce', 'lab-dce');
  expect(await listed(dir)).toEqual([
    `${WS}.oms.opinsights.azure.com`,
    `${WS}.ods.opinsights.azure.com`,
    `${WS}.blob.core.windows.net`,
    'global.handler.control.monitor.azure.com',
    'eastus.handler.control.monitor.azure.com',
    'lab-dce.eastus-1.handler.control.monitor.azure.com',
    'lab-dce.eastus-1.ingest.monitor.azure.com',
  ]);
});

test('the default is still the 2016 list (no handler hosts)', async () => {
  const dir = join(work.dir, 'gw');
  await omsgw('gateway', 'init', '--workspace', WS, '--dir', dir);
  expect((await listed(dir)).some((h) => h.includes('handler.control'))).toBe(false);
});

test.each([
  [{ agent: 'mma' }, '--agent must be one of legacy, ama, all'],
  [{ agent: 'ama', amaRegion: 'East US' }, '--region must be an Azure region name like eastus'],
  [{ agent: 'ama', amaDce: 'bad_name' }, '--dce must be a data collection endpoint name'],
  [{ amaRegion: 'westus' }, '--region and --dce are Azure Monitor Agent settings: add --agent ama (or all)'],
])('bad options %j are input errors: %s', (opts, message) => {
  let err: unknown;
  try {
    initGatewayDir({ workspaceId: WS, dir: join(work.dir, 'x'), ...(opts as object) });
  } catch (e) {
    err = e;
  }
  expect(isInputError(err)).toBe(true);
  expect((err as Error).message).toContain(message);
});

test('a bad --agent on the command line is a flag error naming the choices', async () => {
  await expect(omsgw('gateway', 'init', '--workspace', WS, '--dir', join(work.dir, 'y'), '--agent', 'mma')).rejects.toThrow(/argument 'mma' is invalid\. Allowed choices are legacy, ama, all/);
});
