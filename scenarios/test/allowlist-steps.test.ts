import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AllowlistEditFileStep } from '../runner/definitions.js';
import type { Lab } from '../runner/lab.js';
import { allowlistEditFile } from '../runner/steps/allowlist.js';

describe('allowlist.edit-file', () => {
  let dir: string;
  let lab: Lab;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'omsgw-allowlist-'));
    writeFileSync(join(dir, 'allowedlist_server.txt'), '# comment\nws.oms.opinsights.azure.com\nws.ods.opinsights.azure.com\n');
    // The step only needs the default gateway's folder.
    lab = { gateways: new Map([['gateway', {}]]), gatewayNamed: () => ({ dir }) } as unknown as Lab;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const edit = (s: Partial<AllowlistEditFileStep>) => allowlistEditFile.run({ do: 'allowlist.edit-file', ...s } as AllowlistEditFileStep, lab);
  const file = () => readFileSync(join(dir, 'allowedlist_server.txt'), 'utf8');

  it('keeps comments and order, removes case-insensitively and appends new hosts once', async () => {
    const r = await edit({ remove: ['WS.ODS.opinsights.azure.com'], add: ['scus-agentservice-prod-1.azure-automation.net', 'ws.oms.opinsights.azure.com'] });
    expect(r).toMatchObject({ status: 'passed', summary: 'allowedlist_server.txt now allows 2 entries' });
    expect(file()).toBe('# comment\nws.oms.opinsights.azure.com\nscus-agentservice-prod-1.azure-automation.net\n');
  });

  it('refuses to remove a host the file does not list (a misspelt name would otherwise change nothing) and leaves the file alone', async () => {
    const before = file();
    await expect(edit({ remove: ['ws.odz.opinsights.azure.com'] })).rejects.toThrow(
      'cannot remove ws.odz.opinsights.azure.com: not in allowedlist_server.txt, which lists ws.oms.opinsights.azure.com, ws.ods.opinsights.azure.com',
    );
    expect(file()).toBe(before);
  });
});
