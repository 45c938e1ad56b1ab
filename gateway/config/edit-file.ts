import { chmodSync, chownSync, closeSync, fsyncSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../../lib/errors.js';

export interface EditOptions {
  /** How long to wait for another editor's lock before giving up (InputError). */
  lockTimeoutMs?: number;
  /** A missing file is edited as empty text (and created); otherwise a missing file is an error. */
  createIfMissing?: boolean;
  /** Names the file in messages, e.g. "server allowlist". */
  what: string;
}

export interface EditResult {
  changed: boolean;
  /** The file actually written: the target behind a symbolic link. */
  target: string;
}

/**
 * The file a path stands for: a symbolic link is followed (also when its target does not exist yet),
 * so an edit replaces the shared target and the link stays a link.
 */
export function editTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      const link = readlinkSync(path);
      return isAbsolute(link) ? link : resolve(dirname(path), link);
    } catch {
      return resolve(path);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock next to the target (`<file>.lock`, created with O_EXCL, holding the owner's pid).
 * Every editor (the CLI on files, the gateway's management API) takes it, so two edits never
 * interleave their read and write. A lock whose process is gone is stale and taken over.
 */
async function lock(target: string, timeoutMs: number, what: string): Promise<() => void> {
  const lockFile = `${target}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lockFile);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new InputError(`cannot lock ${what} ${target} for editing (${lockFile}: ${code ?? (err as Error).message})`);
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(lockFile, 'utf8'));
    } catch {
      // released between our open and read: try again at once
      continue;
    }
    if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
      try {
        unlinkSync(lockFile);
      } catch {
        // someone else took it over first
      }
      continue;
    }
    if (Date.now() >= deadline) throw new InputError(`${what} ${target} is locked by another edit (process ${Number.isNaN(holder) ? '?' : holder}, ${lockFile}) for more than ${timeoutMs / 1000} s; try again, or remove the lock file if that process is gone`);
    await sleep(Math.min(50, 2 + attempt * 2) * (0.5 + Math.random()));
  }
}

function readCurrent(target: string, o: EditOptions): { text: string; stat?: Stats } {
  try {
    const stat = statSync(target);
    if (stat.isDirectory()) throw new InputError(`${o.what} ${target} is a folder, not a file`);
    return { text: readFileSync(target, 'utf8'), stat };
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && o.createIfMissing) return { text: '' };
    throw new InputError(`${o.what} ${target} cannot be read: ${code ?? (err as Error).message}`);
  }
}

/** Writes through a temporary sibling of the target and a rename, keeping the old file's mode and owner. */
function replaceFile(target: string, text: string, stat: Stats | undefined, what: string): void {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', stat ? stat.mode & 0o7777 : 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (stat) {
      chmodSync(tmp, stat.mode & 0o7777); // the umask may have narrowed the mode given to open
      if (stat.uid !== process.getuid?.() || stat.gid !== process.getgid?.()) chownSync(tmp, stat.uid, stat.gid);
    }
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot write ${what} ${target}: ${code === 'EPERM' ? 'cannot keep its owner (run as the owner or root)' : (code ?? (err as Error).message)}; nothing was changed`);
  }
}

/**
 * One transaction on a text file: lock, re-read, `edit` (which validates the whole result and throws
 * to refuse: nothing is written), then an atomic replace that keeps mode, owner and line endings
 * (edit receives and returns text with "\n"; a CRLF file is written back as CRLF).
 */
export async function editTextFile(path: string, edit: (text: string) => string | undefined, o: EditOptions): Promise<EditResult> {
  const target = editTarget(path);
  try {
    if (lstatSync(dirname(target)).isDirectory() === false) throw new Error('not a folder');
  } catch {
    throw new InputError(`${o.what} ${path}: its folder ${dirname(target)} does not exist`);
  }
  const unlock = await lock(target, o.lockTimeoutMs ?? 10_000, o.what);
  try {
    const { text, stat } = readCurrent(target, o);
    const crlf = /\r\n/.test(text);
    const next = edit(crlf ? text.replace(/\r\n/g, '\n') : text);
    if (next === undefined) return { changed: false, target };
    replaceFile(target, crlf ? next.replace(/\r?\n/g, '\r\n') : next, stat, o.what);
    return { changed: true, target };
  } finally {
    unlock();
  }
}

/** Sets (or with `undefined`, removes) keys of a JSON settings file in one transaction, keeping the others. */
export async function editJsonFile(path: string, patch: Record<string, unknown>, o: EditOptions & { validate?: (next: Record<string, unknown>) => void }): Promise<EditResult> {
  return editTextFile(
    path,
    (text) => {
      let current: Record<string, unknown> = {};
      if (text.trim() !== '') {
        try {
          current = JSON.parse(text) as Record<string, unknown>;
        } catch (err) {
          throw new InputError(`${o.what} ${path} is not valid JSON (${(err as Error).message}); fix it first, nothing was changed`);
        }
      }
      const next = { ...current };
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete next[k];
        else next[k] = v;
      }
      o.validate?.(next);
      const out = JSON.stringify(next, null, 2) + '\n';
      return out === text ? undefined : out;
    },
    { ...o, createIfMissing: o.createIfMissing ?? true },
  );
}
