import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../lib/errors.js';
import { ManualClock, systemClock, type Clock } from '../../lib/clock.js';
import { validateSetting } from '../config/schema.js';
import { CONFIG_FILE, filesInDir, loadConfigFile } from '../config/load.js';
import { parseHostMapEntry } from '../routes/host-map.js';
import { parseRelayProxy } from '../routes/relay.js';
import type { GatewayConfig } from '../config/schema.js';
import type { GatewayOptions } from '../index.js';
import { parseResetTime } from '../counters/daily-distinct-clients.js';
import { applyTlsVersionFlags, DEFAULT_TLS_POLICY } from '../tls/policy.js';

/** Flags of `omsgw gateway` as commander hands them over (all strings). */
export interface RunFlags {
  config?: string;
  dir?: string;
  listenHost?: string;
  listenPort?: string;
  adminHost?: string;
  adminPort?: string;
  admin?: boolean;
  adminToken?: string;
  allowlist?: string;
  allowHost?: string[];
  clientAllowlist?: string;
  hostMap?: string[];
  hostMapFile?: string;
  relayProxy?: string;
  proxyAuth?: string;
  allowPrivateUpstream?: boolean;
  eventLog?: string;
  eventLogMaxSize?: string;
  eventLogKeep?: string;
  watch?: boolean;
  tlsInspection?: boolean;
  tlsPolicy?: string;
  tlsMinVersion?: string;
  tlsMaxVersion?: string;
  clock?: string;
  maxConnections?: string;
  idleTimeoutMs?: string;
  headerTimeoutMs?: string;
  connectTimeoutMs?: string;
  drainTimeoutMs?: string;
  resetTime?: string;
  debugEvents?: boolean;
}

/** Date.parse rolls 2016-02-30 over to 03-01: a day or month that does not exist is refused instead. */
function realCalendarDate(text: string): boolean {
  const d = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!d) return true;
  const [y, mo, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const at = new Date(Date.UTC(y, mo - 1, day));
  return at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === day;
}

/** `--clock system | manual | manual=<ISO time>` */
export function parseClockFlag(value: string | undefined): { clock: Clock; manual: boolean } {
  if (value === undefined || value === 'system') return { clock: systemClock, manual: false };
  const m = /^manual(?:=(.+))?$/.exec(value);
  if (!m) throw new InputError(`--clock must be "system", "manual" or "manual=<ISO time>" (e.g. manual=2016-03-01T23:59:00Z), got ${JSON.stringify(value)}`);
  if (m[1] === undefined) return { clock: new ManualClock(Date.now()), manual: true };
  const t = Date.parse(m[1]);
  if (Number.isNaN(t)) throw new InputError(`--clock manual=<time>: ${JSON.stringify(m[1])} is not an ISO time such as 2016-03-01T23:59:00Z`);
  if (!realCalendarDate(m[1])) throw new InputError(`--clock manual=<time>: ${JSON.stringify(m[1])} is not a real date (that month has no such day); e.g. 2016-03-01T23:59:00Z`);
  return { clock: new ManualClock(t), manual: true };
}

/** Turns flags (which win) and the config file into createGateway options; InputError names the flag or key. */
export function resolveRunOptions(flags: RunFlags): GatewayOptions {
  let configFile = flags.config ? resolve(flags.config) : undefined;
  const fromDir: Partial<GatewayConfig> = {};
  if (flags.dir) {
    const d = filesInDir(resolve(flags.dir));
    fromDir.allowlistFile = d.allowlistFile;
    if (d.clientAllowlistFile) fromDir.clientAllowlistFile = d.clientAllowlistFile;
    configFile ??= d.config ?? join(resolve(flags.dir), CONFIG_FILE);
  }
  const fileConfig = configFile && (flags.config || existsSync(configFile)) ? loadConfigFile(configFile) : {};
  const f: Partial<GatewayConfig> = {};
  if (flags.listenHost !== undefined) f.listenHost = validateSetting('listenHost', flags.listenHost, '--listen-host')!;
  if (flags.listenPort !== undefined) f.listenPort = parseIntegerFlag(flags.listenPort, '--listen-port', 0, 65535);
  if (flags.adminHost !== undefined) f.adminHost = validateSetting('adminHost', flags.adminHost, '--admin-host')!;
  if (flags.adminPort !== undefined) f.adminPort = parseIntegerFlag(flags.adminPort, '--admin-port', 0, 65535);
  if (flags.admin === false) f.adminPort = null;
  if (flags.adminToken !== undefined) {
    if (flags.adminToken.length < 8) throw new InputError('--admin-token must be at least 8 characters');
    f.adminToken = flags.adminToken;
  }
  if (flags.allowlist !== undefined) f.allowlistFile = resolve(flags.allowlist);
  if (flags.allowHost?.length) f.allowlist = flags.allowHost;
  if (flags.clientAllowlist !== undefined) f.clientAllowlistFile = resolve(flags.clientAllowlist);
  if (flags.hostMap?.length) {
    flags.hostMap.forEach((e) => parseHostMapEntry(e, '--host-map'));
    f.hostMap = [...(fileConfig.hostMap ?? []), ...flags.hostMap];
  }
  if (flags.hostMapFile !== undefined) f.hostMapFile = resolve(flags.hostMapFile);
  if (flags.relayProxy !== undefined) {
    parseRelayProxy(flags.relayProxy, '--relay-proxy');
    f.relayProxy = flags.relayProxy === '' ? undefined : flags.relayProxy;
  }
  if (flags.proxyAuth !== undefined) f.proxyAuth = validateSetting('proxyAuth', flags.proxyAuth, '--proxy-auth');
  if (flags.allowPrivateUpstream) f.allowPrivateUpstream = true;
  if (flags.eventLog !== undefined) f.eventLog = resolve(flags.eventLog);
  if (flags.eventLogMaxSize !== undefined) f.eventLogMaxBytes = parseSizeFlag(flags.eventLogMaxSize, '--event-log-max-size');
  if (flags.eventLogKeep !== undefined) f.eventLogKeep = parseIntegerFlag(flags.eventLogKeep, '--event-log-keep', 0, 100);
  if (flags.watch) f.watch = true;
  if (flags.tlsInspection === false) f.tlsInspection = false;
  if (flags.tlsPolicy !== undefined || flags.tlsMinVersion !== undefined || flags.tlsMaxVersion !== undefined) {
    f.tls = applyTlsVersionFlags(fileConfig.tls ?? DEFAULT_TLS_POLICY, flags);
  }
  if (flags.debugEvents) f.debugEvents = true;
  if (flags.maxConnections !== undefined) f.maxConnections = parseIntegerFlag(flags.maxConnections, '--max-connections', 1, 1_000_000);
  if (flags.idleTimeoutMs !== undefined) f.idleTimeoutMs = parseIntegerFlag(flags.idleTimeoutMs, '--idle-timeout-ms', 1, 86_400_000);
  if (flags.headerTimeoutMs !== undefined) f.headerTimeoutMs = parseIntegerFlag(flags.headerTimeoutMs, '--header-timeout-ms', 1, 3_600_000);
  if (flags.connectTimeoutMs !== undefined) f.connectTimeoutMs = parseIntegerFlag(flags.connectTimeoutMs, '--connect-timeout-ms', 1, 600_000);
  if (flags.drainTimeoutMs !== undefined) f.drainTimeoutMs = parseIntegerFlag(flags.drainTimeoutMs, '--drain-timeout-ms', 0, 600_000);
  if (flags.resetTime !== undefined) {
    parseResetTime(flags.resetTime, '--reset-time');
    f.connectedClientsResetTime = flags.resetTime;
  }
  const merged: GatewayOptions = { ...fromDir, ...fileConfig, ...f, configFile, pinnedKeys: Object.keys(f) };
  if (flags.relayProxy === '') delete merged.relayProxy;
  if (!merged.allowlistFile && !merged.allowlist?.length) {
    throw new InputError('no server allowlist: give --allowlist <allowedlist_server.txt>, --dir <folder from `omsgw gateway init`>, --allow-host <host>, or "allowlistFile" in the config file');
  }
  return merged;
}

/** An integer flag (commander hands over strings): digits only, within [min, max]. */
export function parseIntegerFlag(text: string, flag: string, min: number, max: number): number {
  const n = Number(text.trim());
  if (!/^-?[0-9]+$/.test(text.trim()) || n < min || n > max) throw new InputError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };

/** A size such as `16MiB`, `500kB`, `20M` or plain bytes; `0` means unbounded. */
export function parseSizeFlag(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InputError(`${flag} must be a size such as 16MiB, 500kB or 1048576 (bytes; 0 = never rotate), got ${JSON.stringify(text)}`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes > 2 ** 40) throw new InputError(`${flag} must be at most 1 TiB, got ${JSON.stringify(text)}`);
  return bytes;
}
