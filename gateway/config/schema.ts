import { DEFAULT_TLS_POLICY } from '../tls/policy.js';
import { DEFAULT_EVENT_FILE_KEEP, DEFAULT_EVENT_FILE_MAX_BYTES } from '../events/event-log.js';
import type { GatewayConfig } from './config-schema.js';

export { CONFIG_KEYS, CONFIG_SCHEMA, type ConfigKey, type GatewayConfig } from './config-schema.js';
export { describe, isConfigKey, validatePartialConfig, validateSetting } from './validate-config.js';

export const DEFAULT_CONFIG: GatewayConfig = {
  listenHost: '127.0.0.1',
  listenPort: 8080,
  adminHost: '127.0.0.1',
  adminPort: 8081,
  allowlist: [],
  clientAllowlist: [],
  allowedPorts: [443],
  hostMap: [],
  allowPrivateUpstream: false,
  tlsInspection: true,
  tls: { ...DEFAULT_TLS_POLICY },
  eventLogMaxBytes: DEFAULT_EVENT_FILE_MAX_BYTES,
  eventLogKeep: DEFAULT_EVENT_FILE_KEEP,
  eventRingSize: 10_000,
  debugEvents: false,
  maxHeadBytes: 8192,
  headerTimeoutMs: 10_000,
  maxConnections: 10_000,
  idleTimeoutMs: 300_000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 5_000,
  connectedClientsResetTime: '00:00',
  connectedClientsWindowMinutes: 15,
  watch: false,
};

/** Keys whose values are secrets: never shown by /api/config, `config get` or events. */
export const SECRET_KEYS: ReadonlyArray<keyof GatewayConfig> = ['adminToken', 'proxyAuth', 'relayProxy'];

export function withDefaults(partial: Partial<GatewayConfig>): GatewayConfig {
  const merged = { ...DEFAULT_CONFIG, ...partial };
  for (const k of Object.keys(merged) as Array<keyof GatewayConfig>) if (merged[k] === undefined) delete merged[k];
  return merged;
}
