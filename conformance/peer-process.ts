import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { waitForPort } from '../harness/free-port.js';

export interface PeerProcessOptions {
  /** For messages: "squid", "tinyproxy". */
  name: string;
  binary: string;
  args: string[];
  port: number;
  /** The peer's temp folder, removed by stop(). */
  dir: string;
  /** The peer's own log, whose tail goes into the error when it does not start. */
  log: string;
}

/**
 * Runs a peer proxy in the foreground and resolves once it accepts TCP on `port` (or rejects at once
 * if it exits first). stop(): SIGTERM, SIGKILL after 5 s (a peer that ignores SIGTERM never hangs
 * a run), then the folder is removed.
 */
export async function startPeerProcess(o: PeerProcessOptions): Promise<{ stop(): Promise<void> }> {
  const child = spawn(o.binary, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (!gone && child.pid) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(o.dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(o.port, 15_000, () => !gone);
  } catch (err) {
    const tail = existsSync(o.log) ? readFileSync(o.log, 'utf8').slice(-600) : '';
    await stop();
    throw new Error(`${o.name} did not start listening on 127.0.0.1:${o.port}: ${(err as Error).message}; ${output.slice(-400)} ${tail}`);
  }
  return { stop };
}
