import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from '../lib/paths.js';

export const READY_PREFIX = 'omsgw-gateway-ready ';

/** How much of the child's stdout/stderr `output()` keeps. */
export const OUTPUT_TAIL_CHARS = 1 << 20;

function keepTail(text: string): string {
  return text.length > OUTPUT_TAIL_CHARS ? text.slice(text.length - OUTPUT_TAIL_CHARS) : text;
}

export interface ReadyInfo {
  proxy: { host: string; port: number };
  admin: { host: string; port: number } | null;
  pid: number;
}

export interface SpawnGatewayOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Give up (and kill the child) when it is not ready within this time. Default 20 s. */
  readyTimeoutMs?: number;
  /** Run the child with this open-files limit (soft and hard), through util-linux `prlimit`. */
  openFilesLimit?: number;
  /** Node options for the child, before the script (e.g. `--expose-gc`). */
  nodeArgs?: string[];
  /** Every stdout/stderr line of the child, as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface GatewayProcess {
  proxyPort: number;
  adminPort: number | undefined;
  proxyHost: string;
  pid: number;
  adminUrl: string | undefined;
  proxyUrl: string;
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the child printed so far (the last OUTPUT_TAIL_CHARS characters of each stream). */
  output(): { stdout: string; stderr: string };
}

export class GatewayStartError extends Error {
  constructor(message: string, readonly code: number | null, readonly stdout: string, readonly stderr: string) {
    super(message);
  }
}

/**
 * Runs `node dist/cli/omsgw.js gateway ...args` and resolves once it printed its readiness line.
 * Unless the args say otherwise, both ports are ephemeral (`--listen-port 0 --admin-port 0`).
 */
export function spawnGateway(args: string[], opts: SpawnGatewayOptions = {}): Promise<GatewayProcess> {
  const full = [...args];
  if (!full.includes('--listen-port')) full.push('--listen-port', '0');
  if (!full.includes('--admin-port') && !full.includes('--no-admin')) full.push('--admin-port', '0');
  const argv = [...(opts.nodeArgs ?? []), cliPath(), 'gateway', ...full];
  const [command, commandArgs] = opts.openFilesLimit ? ['prlimit', [`--nofile=${opts.openFilesLimit}:${opts.openFilesLimit}`, process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(command, commandArgs, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  // 'close', not 'exit': by then stdout/stderr are fully read, so output() and start errors are complete.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const lines = (stream: 'stdout' | 'stderr') => {
    let partial = '';
    return (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      // Keep only the tail: a long run prints an event per connection and the parent must not grow with it.
      if (stream === 'stdout') stdout = keepTail(stdout + text);
      else stderr = keepTail(stderr + text);
      partial += text;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        opts.onLine?.(line, stream);
        if (stream === 'stdout') onStdoutLine(line);
      }
    };
  };
  let onStdoutLine: (line: string) => void = () => undefined;
  child.stdout!.on('data', lines('stdout'));
  child.stderr!.on('data', lines('stderr'));

  return new Promise((resolve, reject) => {
    const timeoutMs = opts.readyTimeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new GatewayStartError(`gateway did not report readiness within ${timeoutMs} ms\n${stderr}`, null, stdout, stderr));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new GatewayStartError(`gateway exited before it was ready (code ${code}, signal ${signal})\n${stderr.trim()}`, code, stdout, stderr));
    });
    onStdoutLine = (line) => {
      if (!line.startsWith(READY_PREFIX)) return;
      clearTimeout(timer);
      const info = JSON.parse(line.slice(READY_PREFIX.length)) as ReadyInfo;
      const hostInUrl = (h: string) => (h.includes(':') ? `[${h}]` : h);
      resolve({
        proxyPort: info.proxy.port,
        proxyHost: info.proxy.host,
        adminPort: info.admin?.port,
        pid: info.pid,
        adminUrl: info.admin ? `http://${hostInUrl(info.admin.host)}:${info.admin.port}` : undefined,
        proxyUrl: `http://${hostInUrl(info.proxy.host)}:${info.proxy.port}`,
        child,
        kill: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
        stop: async (stopTimeoutMs = 15_000) => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
          const result = await exited;
          clearTimeout(t);
          return result;
        },
        exited,
        output: () => ({ stdout, stderr }),
      });
    };
  });
}
