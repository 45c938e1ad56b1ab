/** The message: one line, or (scenario files) one located line per problem: `file:line:col: what`. */
const ONE_LINE_PER_PROBLEM = /^omsgw: [^\n]+\n([^\n]+:\d+:\d+: [^\n]+\n)*$/;

/**
 * Every command that reads a file or folder, fed a missing path, a folder where a file belongs (or a
 * file where a folder belongs), an unreadable one (a socket) and a malformed one: each exits 2 with
 * one line on stderr naming what to fix, never a stack trace (issue 17).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../../lib/paths.js';

let work: string;
const sockets: Server[] = [];
const GARBAGE = '\u0000{not: valid ]]\n* *\nhost name with spaces\n';

function socketAt(path: string): Promise<string> {
  const s = createServer();
  sockets.push(s);
  return new Promise((resolve) => s.listen(path, () => resolve(path)));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'omsgw-bad-inputs-'));
});
afterAll(() => {
  for (const s of sockets) s.close();
  rmSync(work, { recursive: true, force: true });
});

type Variant = 'missing' | 'wrong kind' | 'unreadable' | 'malformed';
const VARIANTS: Variant[] = ['missing', 'wrong kind', 'unreadable', 'malformed'];

let n = 0;
/** A path of the given variant, for an input that is a file (`kind: 'file'`) or a gateway folder. */
async function input(kind: 'file' | 'dir', variant: Variant, fileName = 'input.txt'): Promise<string> {
  const base = join(work, `case-${++n}`);
  mkdirSync(base);
  if (variant === 'missing') return join(base, 'nothing-here', kind === 'file' ? fileName : 'gw');
  if (kind === 'file') {
    const p = join(base, fileName);
    if (variant === 'wrong kind') mkdirSync(p);
    else if (variant === 'unreadable') await socketAt(p);
    else writeFileSync(p, GARBAGE);
    return p;
  }
  const dir = join(base, 'gw');
  if (variant === 'wrong kind') {
    writeFileSync(dir, 'a file, not a folder\n');
    return dir;
  }
  mkdirSync(dir);
  if (variant === 'unreadable') {
    await socketAt(join(dir, 'allowedlist_server.txt'));
    await socketAt(join(dir, 'gateway.json'));
  } else {
    writeFileSync(join(dir, 'allowedlist_server.txt'), GARBAGE);
    writeFileSync(join(dir, 'gateway.json'), GARBAGE);
  }
  return dir;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMSGW_ADMIN_URL: 'http://127.0.0.1:1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const RUN = ['--listen-port', '0', '--admin-port', '0'];
const WS = '0123abcd-0000-4000-8000-000000000001';
const KEY = Buffer.alloc(64, 7).toString('base64');

/** Each command with the place its input goes ({} = the path) and the input's kind. */
const COMMANDS: Array<{ name: string; kind: 'file' | 'dir'; args: (p: string) => string[]; fileName?: string }> = [
  { name: 'gateway --config', kind: 'file', args: (p) => ['gateway', '--config', p, ...RUN], fileName: 'gateway.json' },
  { name: 'gateway --dir', kind: 'dir', args: (p) => ['gateway', '--dir', p, ...RUN] },
  { name: 'gateway --allowlist', kind: 'file', args: (p) => ['gateway', '--allowlist', p, ...RUN] },
  { name: 'gateway --client-allowlist', kind: 'file', args: (p) => ['gateway', '--allow-host', 'a.example.com', '--client-allowlist', p, ...RUN] },
  { name: 'gateway --host-map-file', kind: 'file', args: (p) => ['gateway', '--allow-host', 'a.example.com', '--host-map-file', p, ...RUN] },
  { name: 'allowlist list --dir', kind: 'dir', args: (p) => ['allowlist', 'list', '--dir', p] },
  { name: 'allowlist add --dir', kind: 'dir', args: (p) => ['allowlist', 'add', 'b.example.com', '--dir', p] },
  { name: 'allowlist remove --dir', kind: 'dir', args: (p) => ['allowlist', 'remove', 'b.example.com', '--dir', p] },
  { name: 'config get --dir', kind: 'dir', args: (p) => ['config', 'get', '--dir', p] },
  { name: 'config set --dir', kind: 'dir', args: (p) => ['config', 'set', 'maxConnections', '5', '--dir', p] },
  { name: 'relay-proxy get --dir', kind: 'dir', args: (p) => ['relay-proxy', 'get', '--dir', p] },
  { name: 'relay-proxy set --dir', kind: 'dir', args: (p) => ['relay-proxy', 'set', '--address', '', '--dir', p] },
  { name: 'events --file', kind: 'file', args: (p) => ['events', '--file', p], fileName: 'events.jsonl' },
  { name: 'agent linux --ca', kind: 'file', args: (p) => ['agent', 'linux', '--proxy', '127.0.0.1:1', '--workspace', WS, '--key', KEY, '--ca', p, '--once'], fileName: 'ca.pem' },
  { name: 'scenario run', kind: 'file', args: (p) => ['scenario', 'run', p], fileName: 'lab.yaml' },
];

describe.each(COMMANDS)('$name', ({ kind, args, fileName }) => {
  test.each(VARIANTS)('%s input: exit 2, one line naming the problem', async (variant) => {
    const r = await run(args(await input(kind, variant, fileName)));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(ONE_LINE_PER_PROBLEM) });
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

test('cloud --state-dir: a file, and a folder with a malformed CA', async () => {
  const file = await input('file', 'malformed');
  const dir = join(work, 'bad-ca');
  mkdirSync(dir);
  writeFileSync(join(dir, 'ca.pem'), GARBAGE);
  writeFileSync(join(dir, 'ca-key.pem'), GARBAGE);
  for (const p of [file, dir]) {
    const r = await run(['cloud', '--state-dir', p, '--port', '0', '--admin-port', '0']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/^omsgw: [^\n]+\n$/) });
  }
});
