import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../lib/errors.js';
import { allowlistWhat, editAllowlistFile, loadClientAllowlist, loadServerAllowlist } from '../../gateway/allowlist/allowlist-file.js';
import { CLIENT_ALLOWLIST_FILE, CONFIG_FILE, loadConfigFile, SERVER_ALLOWLIST_FILE } from '../../gateway/config/load.js';
import { editJsonFile } from '../../gateway/config/edit-file.js';
import { isLiveKey, RESTART_REQUIRED } from '../../gateway/config/live-keys.js';
import { validatePartialConfig } from '../../gateway/config/schema.js';
import { parseRelayProxy } from '../../gateway/routes/relay.js';
import { maskSettings } from './mask.js';
import type { ListEditResult, ListName, ManagementTarget, RelayView, SettingsView } from './target-types.js';

const APPLY_ON_RELOAD = 'a running gateway applies it on `omsgw gateway reload`, SIGHUP or restart';

/** A gateway folder (from `omsgw gateway init`): every edit is a locked, validated, atomic file transaction. */
export class DirTarget implements ManagementTarget {
  readonly kind = 'dir';
  constructor(readonly dir: string, private readonly timeoutMs: number) {}

  private file(list: ListName): string {
    return join(this.dir, list === 'subjects' ? CLIENT_ALLOWLIST_FILE : SERVER_ALLOWLIST_FILE);
  }

  private get configFile(): string {
    return join(this.dir, CONFIG_FILE);
  }

  async list(list: ListName): Promise<readonly string[]> {
    const f = this.file(list);
    if (list === 'subjects') return existsSync(f) ? loadClientAllowlist(f) : [];
    return loadServerAllowlist(f);
  }

  async edit(list: ListName, op: 'add' | 'remove', value: string): Promise<ListEditResult> {
    const f = this.file(list);
    const { changed } = await editAllowlistFile(f, list, op, [value], { lockTimeoutMs: this.timeoutMs, createIfMissing: list === 'subjects' && op === 'add' });
    if (changed.length === 0) {
      if (op === 'remove') throw new InputError(`${value} is not in ${f}; nothing was changed (see: omsgw allowlist list${list === 'subjects' ? ' --client' : ''} --dir ${this.dir})`);
      return { changed, message: `${value} is already in ${f}` };
    }
    return { changed, message: `${op === 'add' ? 'added' : 'removed'} ${value} ${op === 'add' ? 'to' : 'from'} ${f} (${allowlistWhat(list)} saved; ${APPLY_ON_RELOAD}, or at once with --watch)` };
  }

  async settings(): Promise<SettingsView> {
    const f = this.configFile;
    return { settings: maskSettings(existsSync(f) ? (loadConfigFile(f) as Record<string, unknown>) : {}), pending: {} };
  }

  async set(key: string, value: unknown): Promise<string> {
    const f = this.configFile;
    await editJsonFile(f, { [key]: value ?? undefined }, {
      what: 'config file',
      lockTimeoutMs: this.timeoutMs,
      // the whole file must stay valid, not only the key written
      validate: (next) => void validatePartialConfig(next, (k) => `${f}: "${k}"`, `config file ${f}`),
    });
    const shown = value === null || value === undefined ? 'unset' : 'saved';
    return `${key} ${shown} in ${f}; ${isLiveKey(key) ? APPLY_ON_RELOAD : `${RESTART_REQUIRED}: a running gateway uses it only after a restart`}`;
  }

  async relayProxy(): Promise<RelayView | null> {
    const f = this.configFile;
    const url = existsSync(f) ? loadConfigFile(f).relayProxy : undefined;
    const r = url ? parseRelayProxy(url, `${f}: "relayProxy"`) : undefined;
    if (!r) return null;
    return { address: `http://${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`, username: r.username ?? null, hasPassword: r.password !== undefined && r.password !== '' };
  }
}
