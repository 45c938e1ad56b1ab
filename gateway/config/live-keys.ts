import type { ConfigKey } from './config-schema.js';

/**
 * Settings a running gateway can take without a restart: they only shape how a new connection is
 * judged and routed. PUT /api/config applies them at once; `omsgw gateway reload` (SIGHUP, POST
 * /api/reload) applies them from gateway.json. Every other setting needs a restart, and says so.
 */
export const LIVE_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>([
  'relayProxy',
  'proxyAuth',
  'allowedPorts',
  'allowPrivateUpstream',
  'tlsInspection',
  'tls',
  'hostMap',
  'hostMapFile',
  'allowlist',
  'allowlistFile',
  'clientAllowlist',
  'clientAllowlistFile',
]);

export function isLiveKey(key: string): boolean {
  return LIVE_KEYS.has(key as ConfigKey);
}

export const RESTART_REQUIRED = 'restart required';
