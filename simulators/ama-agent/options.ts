import type { SecureVersion } from 'node:tls';
import type { Clock } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import type { Seed } from '../agent-core/identity.js';
import { validateWorkspaceId } from '../agent-core/signing.js';
import { IMDS_TOKEN_FAULTS, type ImdsTokenFault } from '../../fake-oms-endpoints/ama/imds.js';
import { REGION_RE } from '../../fake-oms-endpoints/ama/hosts.js';
import type { AmaProxySettings } from './proxy-settings.js';

export interface AmaAgentOptions {
  /** The workspace the machine's data collection rule targets (lab association: resource group omsgw-<ws>). */
  workspaceId: string;
  proxy: AmaProxySettings;
  /** With proxy mode "none": where the machine reaches Azure (the fake cloud's port; no DNS in the lab). */
  direct?: { host: string; port: number };
  caPem: string;
  seed: Seed;
  index?: number;
  bindAddress?: string;
  /** Azure region of the machine (default eastus). */
  region?: string;
  platform?: 'linux' | 'windows';
  /** Base URL of an instance metadata service; default: the agent serves its own on loopback. */
  imdsUrl?: string;
  /** Make the agent's own IMDS hand out bad tokens (lab fault). */
  imdsTokenFault?: ImdsTokenFault;
  /** Schedules, backoff and the ledger. */
  clock?: Clock;
  /** Token times (IMDS, expiry checks); default `clock`. Accelerated runs pass the system clock. */
  dateClock?: Clock;
  tls?: { minVersion?: SecureVersion; maxVersion?: SecureVersion };
  /** Records buffered before new ones are dropped (`queue-full`); default 10000. Stands in for the disk cache quota. */
  queueLimit?: number;
  schedule?: { collectIntervalMs?: number; configRefreshMs?: number };
  retry?: { initialMs?: number; maxMs?: number; jitter?: number };
  volume?: { syslogRows?: number; customRows?: number };
  batchSize?: number;
  keepAlive?: boolean;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  logger?: (entry: { time: string; level: 'info' | 'warning' | 'error'; agentId: string; hostname: string; message: string; phase?: string }) => void;
}

function positive(name: string, v: number | undefined, integer = false): void {
  if (v === undefined) return;
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) throw new InputError(`${name} must be a ${integer ? 'whole ' : ''}number > 0, got ${v}`);
}

/** Throws InputError naming the first bad option. */
export function validateAmaOptions(o: AmaAgentOptions): void {
  validateWorkspaceId(o.workspaceId);
  if (typeof o.caPem !== 'string' || !o.caPem.includes('BEGIN CERTIFICATE')) throw new InputError('caPem must be the lab CA certificate in PEM form (-----BEGIN CERTIFICATE-----)');
  if (o.region !== undefined && !REGION_RE.test(o.region)) throw new InputError(`region must be an Azure region name like eastus, got ${JSON.stringify(o.region)}`);
  if (o.platform !== undefined && o.platform !== 'linux' && o.platform !== 'windows') throw new InputError(`platform must be linux or windows, got ${JSON.stringify(o.platform)}`);
  if (o.imdsTokenFault !== undefined && !IMDS_TOKEN_FAULTS.includes(o.imdsTokenFault)) throw new InputError(`imdsTokenFault must be one of ${IMDS_TOKEN_FAULTS.join(', ')}`);
  if (o.imdsUrl !== undefined && !/^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]|localhost|169\.254\.169\.254)(:\d+)?$/.test(o.imdsUrl)) throw new InputError(`imdsUrl must be http://<loopback or 169.254.169.254>[:port], got ${o.imdsUrl}`);
  if (o.bindAddress !== undefined && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(o.bindAddress)) throw new InputError(`bindAddress ${o.bindAddress} is not a loopback address (127.x.y.z)`);
  if (o.proxy?.mode === 'none' && !o.direct) throw new InputError('proxy mode "none" needs direct {host, port}: where this lab machine reaches Azure without a proxy (the fake cloud port)');
  positive('queueLimit', o.queueLimit, true);
  positive('batchSize', o.batchSize, true);
  positive('connectTimeoutMs', o.connectTimeoutMs);
  positive('requestTimeoutMs', o.requestTimeoutMs);
  positive('schedule.collectIntervalMs', o.schedule?.collectIntervalMs);
  positive('schedule.configRefreshMs', o.schedule?.configRefreshMs);
  positive('retry.initialMs', o.retry?.initialMs);
  positive('retry.maxMs', o.retry?.maxMs);
  for (const k of ['syslogRows', 'customRows'] as const) {
    const v = o.volume?.[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new InputError(`volume.${k} must be a whole number >= 0, got ${v}`);
  }
}
