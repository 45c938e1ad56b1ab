import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { validateDriverOptions } from './run.js';
import type { DriverOptions, DriverResult, DriverSample } from './types.js';

export interface SpawnedDriver {
  pid: number;
  /** Resolves with the driver's result (rejects if the child fails or dies). */
  result: Promise<DriverResult>;
  /** idle mode: resolves with the number of open tunnels once all are open. */
  idleReady: Promise<number>;
  /** idle with holdUntilReleased: measuring is done, the hold may end. */
  release(): void;
  stop(): void;
  kill(): void;
}

export interface SpawnDriverOptions {
  onSample?: (s: DriverSample) => void;
  /** Extra node flags for the driver process, e.g. ['--cpu-prof']. */
  execArgv?: string[];
}

/** Runs the driver in its own process (dist/harness/driver/worker.js; build first). */
export function spawnDriver(options: DriverOptions, spawnOpts: SpawnDriverOptions = {}): SpawnedDriver {
  validateDriverOptions(options);
  const child: ChildProcess = fork(join(packageRoot(), 'dist', 'harness', 'driver', 'worker.js'), [], {
    execArgv: spawnOpts.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let resolveIdle!: (n: number) => void;
  let rejectIdle!: (e: Error) => void;
  const idleReady = new Promise<number>((res, rej) => {
    resolveIdle = res;
    rejectIdle = rej;
  });
  idleReady.catch(() => undefined);
  const result = new Promise<DriverResult>((resolve, reject) => {
    let done = false;
    child.on('message', (msg: { type: string; result?: DriverResult; sample?: DriverSample; open?: number; message?: string }) => {
      if (msg.type === 'sample' && msg.sample) spawnOpts.onSample?.(msg.sample);
      else if (msg.type === 'idle-ready') resolveIdle(msg.open ?? 0);
      else if (msg.type === 'result' && msg.result) {
        done = true;
        resolveIdle(msg.result.maxOpen);
        resolve(msg.result);
      } else if (msg.type === 'error') {
        done = true;
        const err = new Error(`driver process failed: ${msg.message}`);
        rejectIdle(err);
        reject(err);
      }
    });
    child.on('exit', (code, signal) => {
      if (done) return;
      const err = new Error(`driver process exited (code ${code}, signal ${signal}) before reporting a result`);
      rejectIdle(err);
      reject(err);
    });
  });
  child.send({ type: 'run', options });
  return {
    pid: child.pid ?? -1,
    result,
    idleReady,
    release: () => {
      if (child.connected) child.send({ type: 'release' });
    },
    stop: () => {
      if (child.connected) child.send({ type: 'stop' });
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
