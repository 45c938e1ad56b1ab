import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ReadyChild<T> {
  pid: number;
  info: T;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Recent stderr lines, for error messages. */
  stderrTail(): string;
}

/**
 * Starts a process and waits for its readiness line `<prefix> {json}` on stdout (or a custom
 * predicate for programs that print no such line).
 */
export function spawnReady<T>(
  command: string,
  args: string[],
  opts: { prefix?: string; ready?: (line: string) => T | undefined; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; readyOnStderr?: boolean },
): Promise<ReadyChild<T>> {
  const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(100);
      reject(new Error(`${command} did not become ready within ${opts.timeoutMs ?? 20000} ms: ${tail.join('\n')}`));
    }, opts.timeoutMs ?? 20000);
    let ready = false;
    const onLine = (line: string): void => {
      if (ready) return;
      let info: T | undefined;
      if (opts.prefix && line.startsWith(opts.prefix + ' ')) info = JSON.parse(line.slice(opts.prefix.length + 1)) as T;
      else if (opts.ready) info = opts.ready(line);
      if (info === undefined) return;
      ready = true;
      clearTimeout(timer);
      resolve({ pid: child.pid!, info, child, stop, stderrTail: () => tail.join('\n') });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (opts.readyOnStderr) onLine(line);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${command} exited (code ${code}, signal ${signal}) before it was ready: ${tail.join('\n')}`));
    });
  });
}

/** Starts a program that prints no readiness line and waits until it accepts TCP on `port`. */
export async function spawnListening(command: string, args: string[], port: number, opts: { timeoutMs?: number; cwd?: string } = {}): Promise<ReadyChild<{ port: number }>> {
  const { waitForPort } = await import('./free-port.js');
  const child = spawn(command, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 5000): Promise<void> => {
    if (!alive()) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };
  try {
    await waitForPort(port, opts.timeoutMs ?? 20000, alive);
  } catch (err) {
    await stop(100);
    throw new Error(`${command} did not start: ${(err as Error).message}\n${tail.join('\n')}`);
  }
  return { pid: child.pid!, info: { port }, child, stop, stderrTail: () => tail.join('\n') };
}
