import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { ResourceEpisodes } from './episodes.js';

export interface FdWatchOptions {
  clock: Clock;
  episodes: ResourceEpisodes;
  /** Open client connections now, for the message. */
  openConnections: () => number;
  intervalMs?: number;
}

const RESOURCE = 'file-descriptors';

/**
 * Notices when the process runs out of file descriptors. At EMFILE libuv accepts and at once closes
 * new connections itself (its "EMFILE trick"), so the gateway never sees them and would say nothing:
 * clients just see their connection closed. A cheap probe (open and close /dev/null) on the clock
 * tells the operator instead, once per episode, and tells when it is over.
 */
export class FdWatch {
  private timer?: TimerHandle;
  private readonly intervalMs: number;
  /** Read up front: once the descriptors are gone, /proc/self/limits cannot be opened either. */
  private readonly limit = openFilesLimit();

  constructor(private readonly o: FdWatchOptions) {
    this.intervalMs = o.intervalMs ?? 1000;
  }

  start(): void {
    if (!this.timer) this.timer = this.o.clock.setInterval(() => this.probe(), this.intervalMs);
  }

  /** One probe now; exported for the gateway to call after an EMFILE seen elsewhere. */
  probe(): void {
    let fd: number;
    try {
      fd = openSync('/dev/null', 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      if (code !== 'EMFILE' && code !== 'ENFILE') return;
      const limit = this.limit;
      this.o.episodes.exhausted(
        RESOURCE,
        code,
        `Out of file descriptors (${code}${limit ? `, limit ${limit}` : ''}) with ${this.o.openConnections()} client connection(s) open: new connections are closed before the gateway can answer them. Raise the limit (ulimit -n, systemd LimitNOFILE) or lower maxConnections`,
        { fields: { limit, openConnections: this.o.openConnections() } },
      );
      return;
    }
    closeSync(fd);
    this.o.episodes.recovered(RESOURCE, (e) => `File descriptors available again after ${e.seconds} s (${e.code}); ${this.o.openConnections()} client connection(s) open`);
  }

  close(): void {
    if (this.timer) this.o.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The soft "Max open files" limit of this process, when /proc tells it. */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}
