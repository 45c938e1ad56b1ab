import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../lib/paths.js';
import { LIVE_HEAP_PREFIX, type LiveHeap } from './live-heap-line.js';

export type { LiveHeap } from './live-heap-line.js';

const READ_TIMEOUT_MS = 10_000;

/**
 * Reads a child's live heap (after full GC) through the heap probe: start the child with
 * `nodeArgs()` and feed its stderr lines to `onLine`; `read()` signals it and waits for its answer.
 */
export class LiveHeapReader {
  private readonly waiting: { resolve: (h: LiveHeap) => void; reject: (e: Error) => void }[] = [];

  nodeArgs(): string[] {
    return ['--expose-gc', '--import', pathToFileURL(join(packageRoot(), 'dist', 'reliability', 'heap-probe.js')).href];
  }

  readonly onLine = (line: string, stream: 'stdout' | 'stderr'): void => {
    if (stream !== 'stderr' || !line.startsWith(LIVE_HEAP_PREFIX)) return;
    const waiter = this.waiting.shift();
    if (!waiter) return;
    const parsed = JSON.parse(line.slice(LIVE_HEAP_PREFIX.length)) as LiveHeap | { error: string };
    if ('error' in parsed) waiter.reject(new Error(`heap probe: ${parsed.error}`));
    else waiter.resolve(parsed);
  };

  read(pid: number): Promise<LiveHeap> {
    return new Promise<LiveHeap>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`the gateway (pid ${pid}) did not report its live heap within ${READ_TIMEOUT_MS} ms of SIGUSR2 (started without the heap probe?)`));
      }, READ_TIMEOUT_MS);
      const done = (h: LiveHeap): void => {
        clearTimeout(timer);
        resolve(h);
      };
      this.waiting.push({ resolve: done, reject: (e) => (clearTimeout(timer), reject(e)) });
      process.kill(pid, 'SIGUSR2');
    });
  }
}
