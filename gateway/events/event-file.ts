import { closeSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

export interface EventFileOptions {
  path: string;
  /** Rotate before a line would take the file past this size; 0 = never rotate. */
  maxBytes: number;
  /** Rotated files kept beside it (`<path>.1` newest ... `<path>.<keep>` oldest); older ones are deleted. */
  keep: number;
  /** A write failed (ENOSPC, EIO, ...): the line is lost from the file (it stays in the ring). */
  onWriteFailed(err: NodeJS.ErrnoException, lostLines: number): void;
  /** A write succeeded after failures. */
  onWriteRecovered(lostLines: number): void;
}

/**
 * The JSON-lines mirror of the event log, bounded like the Windows event log: past `maxBytes` it
 * rotates (`events.jsonl` → `events.jsonl.1` → ...). Writes are synchronous so that the file order is
 * the event order, rotation never races a pending write, and a full disk is known at once.
 */
export class EventFile {
  /** -1 while closed (after a failed rotation the next write reopens it). */
  private fd = -1;
  private size = 0;
  private lost = 0;

  /** Opens (appends to) the file; throws when it cannot be opened. */
  constructor(private readonly o: EventFileOptions) {
    this.reopen();
  }

  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    try {
      if (this.fd < 0) this.reopen();
      if (this.o.maxBytes > 0 && this.size > 0 && this.size + bytes > this.o.maxBytes) this.rotate();
      writeSync(this.fd, line);
      this.size += bytes;
    } catch (err) {
      this.lost++;
      this.o.onWriteFailed(err as NodeJS.ErrnoException, this.lost);
      return;
    }
    if (this.lost > 0) {
      const lost = this.lost;
      this.lost = 0;
      this.o.onWriteRecovered(lost);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private rotate(): void {
    this.close();
    const { path, keep } = this.o;
    try {
      if (keep === 0) rmSync(path, { force: true });
      else {
        rmSync(`${path}.${keep}`, { force: true });
        for (let i = keep - 1; i >= 1; i--) renameIfPresent(`${path}.${i}`, `${path}.${i + 1}`);
        renameSync(path, `${path}.1`);
      }
    } finally {
      // Even when a rename failed, keep writing to the live file (a later write may rotate again).
      this.reopen();
    }
  }

  private reopen(): void {
    this.fd = openSync(this.o.path, 'a');
    this.size = fstatSync(this.fd).size;
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
