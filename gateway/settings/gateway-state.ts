import { existsSync } from 'node:fs';
import type { ConfigKey, GatewayConfig } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load.js';
import { isLiveKey, LIVE_KEYS } from '../config/live-keys.js';
import { DEFAULT_CONFIG } from '../config/schema.js';
import type { LiveSettings } from '../live-settings.js';
import { maskRelayUrl } from '../routes/relay.js';
import { buildSettings, hostMapOf, readFileEntries, savedHosts, savedSubjects, type FileEntries } from './build-settings.js';
import { diffLists, diffSettings, type ListDiff, type SettingsDiff } from './settings-diff.js';

/** A setting as people may see it (secrets masked). */
export function shownValue(key: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (key === 'relayProxy') return maskRelayUrl(String(value));
  if (key === 'proxyAuth') return String(value).replace(/:.*$/, ':****');
  if (key === 'adminToken') return '****';
  return value;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface ReloadPlan {
  config: GatewayConfig;
  live: LiveSettings;
  files: FileEntries;
  fileKeys: Set<string>;
  diff: SettingsDiff;
  /** Keys gateway.json changes that only a restart applies. */
  pendingRestart: string[];
}

/** Saved (files, gateway.json) but not in force. */
export interface PendingView {
  hosts: ListDiff;
  clientSubjects: ListDiff;
  hostMap: ListDiff;
  settings: Record<string, { live: unknown; saved: unknown; when: 'reload' | 'restart' }>;
  /** Set when a file cannot be read or is invalid: what reload would refuse. */
  error?: string;
}

/**
 * The gateway's configuration in force and the live settings built from it, replaced as a whole
 * (never mutated) by a management change or a reload. It also knows what is saved but not in force.
 */
export class GatewayState {
  private cfg: Readonly<GatewayConfig>;
  private liveSettings: LiveSettings;
  private files: FileEntries;
  /** Keys gateway.json held when last read: a key removed from it returns to its default on reload. */
  private fileKeys: Set<string>;

  constructor(config: GatewayConfig, readonly configFile: string | undefined, private readonly pinned: ReadonlySet<string>) {
    this.cfg = Object.freeze({ ...config });
    this.files = readFileEntries(config);
    this.liveSettings = buildSettings(config, this.files);
    this.fileKeys = new Set(configFile && existsSync(configFile) ? Object.keys(loadConfigFile(configFile)) : []);
  }

  get config(): Readonly<GatewayConfig> {
    return this.cfg;
  }

  get live(): LiveSettings {
    return this.liveSettings;
  }

  get fileEntries(): FileEntries {
    return this.files;
  }

  /** Replaces the state in force; every change goes through here. */
  commit(next: { config?: GatewayConfig; live: LiveSettings; files?: FileEntries; fileKeys?: Set<string> }): void {
    if (next.config) this.cfg = Object.freeze({ ...next.config });
    this.liveSettings = next.live;
    if (next.files) this.files = next.files;
    if (next.fileKeys) this.fileKeys = next.fileKeys;
  }

  /** gateway.json's live settings as the next configuration (flags keep winning); restart-only changes listed. */
  private savedConfig(): { config: GatewayConfig; fileKeys: Set<string>; pendingRestart: string[]; saved: Partial<GatewayConfig> } {
    const saved = this.configFile && existsSync(this.configFile) ? loadConfigFile(this.configFile) : {};
    const next: Record<string, unknown> = { ...this.cfg };
    const pendingRestart: string[] = [];
    for (const key of Object.keys(saved) as ConfigKey[]) {
      if (this.pinned.has(key) || same(saved[key], this.cfg[key])) continue;
      if (isLiveKey(key)) next[key] = saved[key];
      else pendingRestart.push(key);
    }
    for (const key of LIVE_KEYS) {
      if (this.pinned.has(key) || key in saved || !this.fileKeys.has(key)) continue;
      // removed from gateway.json since it was read: back to the default
      if (DEFAULT_CONFIG[key] === undefined) delete next[key];
      else next[key] = DEFAULT_CONFIG[key];
    }
    return { config: next as unknown as GatewayConfig, fileKeys: new Set(Object.keys(saved)), pendingRestart, saved };
  }

  /** What a reload would do: re-read every file (InputError on a bad one; nothing committed). */
  planReload(): ReloadPlan {
    const { config, fileKeys, pendingRestart } = this.savedConfig();
    const files = readFileEntries(config);
    const live = buildSettings(config, files);
    const settings: SettingsDiff['settings'] = {};
    for (const key of LIVE_KEYS) {
      if (!same(config[key], this.cfg[key])) settings[key] = { from: shownValue(key, this.cfg[key]), to: shownValue(key, config[key]) };
    }
    return { config, live, files, fileKeys, diff: diffSettings(this.liveSettings, live, settings), pendingRestart };
  }

  pending(): PendingView {
    try {
      const { config, saved } = this.savedConfig();
      const files = readFileEntries(config);
      const settings: PendingView['settings'] = {};
      for (const key of Object.keys(saved) as ConfigKey[]) {
        if (this.pinned.has(key) || same(saved[key], this.cfg[key])) continue;
        settings[key] = { live: shownValue(key, this.cfg[key]), saved: shownValue(key, saved[key]), when: isLiveKey(key) ? 'reload' : 'restart' };
      }
      return {
        hosts: diffLists(this.liveSettings.allowlist.hosts, savedHosts(config, files)),
        clientSubjects: diffLists(this.liveSettings.clientAllowlist, savedSubjects(config, files)),
        hostMap: diffLists(this.liveSettings.hostMap.entries, hostMapOf(config, files).entries),
        settings,
      };
    } catch (err) {
      const none = { added: [], removed: [] };
      return { hosts: none, clientSubjects: none, hostMap: none, settings: {}, error: (err as Error).message };
    }
  }
}
