import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';
import { parseScenario, ScenarioFileError } from '../runner/load.js';

const scenario = (agentFields: string) => `name: behavior-fields
title: agents with a behaviour model
workspaces:
  - id: 11111111-2222-3333-4444-555555555555
steps:
  - do: agents.start
    os: linux
${agentFields}`;

function messages(text: string): string[] {
  try {
    parseScenario(text, 'b.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioFileError);
    return (err as ScenarioFileError).problems.map((p) => `${p.field}: ${p.message}`);
  }
  return [];
}

describe('agents.start behavior and retry fields', () => {
  test('valid models and retry parameters load (the control for the refusals below)', () => {
    for (const b of ['omsagent', 'mma', 'ideal']) expect(messages(scenario(`    behavior: ${b}\n    retry: { uploadInitialMs: 1000, uploadMaxMs: 60000, retryLimit: 1 }\n`))).toEqual([]);
  });

  test.each([
    ['    behavior: fluentd\n', /^steps\[0\]\.behavior: must be one of: "omsagent", "mma", "ideal" \(got "fluentd"\)/],
    ['    retry: { retryLimit: 0 }\n', /^steps\[0\]\.retry\.retryLimit: must be >= 1/],
    ['    retry: { uploadInitialMs: -5 }\n', /^steps\[0\]\.retry\.uploadInitialMs: must be >= 1/],
    ['    retry: { uploadMaxMs: 0 }\n', /^steps\[0\]\.retry\.uploadMaxMs: must be >= 1/],
    ['    retry: { retryWait: 30 }\n', /^steps\[0\]\.retry\.retryWait: unknown field "retryWait"; allowed here: uploadInitialMs, uploadMaxMs, retryLimit/],
  ])('%j is refused naming the field and what is allowed', (fields, msg) => {
    const found = messages(scenario(fields));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(msg);
  });

  test('omsgw scenario run exits 2 on an unknown behaviour model, before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omsgw-behavior-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, scenario('    behavior: fluentd\n'));
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(process.execPath, [cliPath(), 'scenario', 'run', file], (err, _out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stderr })),
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/bad\.yaml:8:15: steps\[0\]\.behavior: must be one of: "omsagent", "mma", "ideal" \(got "fluentd"\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
