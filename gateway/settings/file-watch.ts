import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * Calls `onChange` (debounced) when one of `files` changes. It watches their folders: editors and
 * our own atomic edits replace a file by renaming, which a watch on the file itself would miss.
 */
export class FileWatcher {
  private watchers: FSWatcher[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly files: readonly string[], private readonly onChange: () => void, private readonly debounceMs = 100) {}

  start(): void {
    const dirs = new Map<string, Set<string>>();
    for (const f of this.files.map((x) => resolve(x))) {
      const set = dirs.get(dirname(f)) ?? new Set<string>();
      set.add(basename(f));
      dirs.set(dirname(f), set);
    }
    for (const [dir, names] of dirs) {
      const w = watch(dir, (_type, name) => {
        if (name && !names.has(name.toString())) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.onChange();
        }, this.debounceMs);
        this.timer.unref();
      });
      w.on('error', () => undefined);
      this.watchers.push(w);
    }
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearTimeout(this.timer);
  }
}
