/** The one CLI as a child process: help, command table and the exit-2 policy for flag errors. */
import { execFile } from 'node:child_process';
import { cliPath } from '../../lib/paths.js';

function omsgw(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

test('--help lists every part of the product and exits 0', async () => {
  const r = await omsgw(['--help']);
  expect(r.code).toBe(0);
  for (const name of ['gateway', 'allowlist', 'config', 'relay-proxy', 'events', 'counters', 'cloud', 'agent', 'scenario', 'lab', 'load', 'bench', 'conformance']) {
    expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  }
});

test.each([
  [['no-such-command'], /unknown command 'no-such-command' \(run omsgw --help for usage\)/],
  [['gateway', '--bogus'], /unknown option '--bogus' \(run omsgw gateway --help for usage\)/],
  [['agent', 'linux'], /required option '--proxy <url>' not specified \(run omsgw agent linux --help for usage\)/],
  [['cloud', '--port'], /option '--port <port>' argument missing/],
  [['scenario', 'run', '--reporter'], /argument missing \(run omsgw scenario run --help for usage\)/],
])('flag errors exit 2 with one clear message: omsgw %j', async (args, message) => {
  const r = await omsgw(args);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});

test('a subcommand\'s help exits 0 and shows an example', async () => {
  const r = await omsgw(['gateway', 'init', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/omsgw gateway init --workspace/);
});
