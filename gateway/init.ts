import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../lib/errors.js';
import { CLIENT_ALLOWLIST_FILE, CONFIG_FILE, SERVER_ALLOWLIST_FILE } from './config/load.js';
import { amaAllowlistHosts, DCE_RE, REGION_RE } from '../fake-oms-endpoints/ama/hosts.js';

/** Which agents the allowlist is written for: the 2016 legacy agents (default), the Azure Monitor Agent, or both. */
export type InitAgent = 'legacy' | 'ama' | 'all';
export const INIT_AGENTS: readonly InitAgent[] = ['legacy', 'ama', 'all'];

export interface InitOptions {
  workspaceId: string;
  dir: string;
  /** Storage account of the blob host; defaults to the workspace id. */
  blobAccount?: string;
  force?: boolean;
  agent?: InitAgent;
  /** Azure Monitor Agent: the machines' region (default eastus) and a data collection endpoint name, if any. */
  amaRegion?: string;
  amaDce?: string;
  /** host=ip:port entries to write as host-map.txt (named by gateway.json's hostMapFile). */
  hostMap?: string[];
}

export const HOST_MAP_FILE = 'host-map.txt';

export interface InitResult {
  files: string[];
  hosts: string[];
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The hosts a 2016 preview install allowed for one workspace. */
export function defaultHosts(workspaceId: string, blobAccount = workspaceId): string[] {
  return [`${workspaceId}.oms.opinsights.azure.com`, `${workspaceId}.ods.opinsights.azure.com`, `${blobAccount}.blob.core.windows.net`];
}

export function defaultServerAllowlistText(workspaceId: string, blobAccount?: string): string {
  return [
    '# allowedlist_server.txt: hosts this gateway lets agents CONNECT to (port 443), one per line.',
    '# Written by `omsgw gateway init` with the defaults a 2016 OMS Gateway preview install had for',
    `# workspace ${workspaceId}: its agent service (oms), data ingestion (ods) and blob storage hosts.`,
    '#',
    '# The automation agent-service host (e.g. scus-agentservice-prod-1.azure-automation.net) is NOT',
    '# listed. The Linux agent (omsagent) calls it during onboarding and heartbeats, so through this',
    '# gateway it fails with event 105 "Target host (...) is forbidden" while Windows agents work.',
    '# That is exactly the 2016 Linux agent bug. Fix: add the host below and restart the gateway',
    '# (or `omsgw allowlist add <host>` and `POST /api/reload`).',
    '#',
    '# Entries are exact host names (case-insensitive). A line starting with "*." (e.g.',
    '# *.blob.core.windows.net) allows every sub-domain: an omsgw extension the real product lacked.',
    ...defaultHosts(workspaceId, blobAccount),
    '',
  ].join('\n');
}

/** The Azure Monitor Agent's block of the server allowlist (the hosts the gateway documentation lists). */
export function amaAllowlistText(workspaceId: string, region: string, dce?: string): string {
  return [
    '# Azure Monitor Agent (written by `omsgw gateway init --agent ama|all`): the hosts the gateway',
    '# documentation tells operators to add for AMA: the global and regional control-plane handlers',
    `# (configuration and ingestion tokens, region ${region}) and the workspace's ODS ingestion host${dce ? `; and the` : '.'}`,
    ...(dce ? [`# data collection endpoint ${dce}'s handler and ingestion hosts (custom logs, private link).`] : []),
    ...amaAllowlistHosts(workspaceId, region, dce),
    '',
  ].join('\n');
}

export const DEFAULT_CLIENT_ALLOWLIST_TEXT = [
  '# allowedlist_client.txt: client certificate subjects allowed through the TLS inspection, one per line.',
  '# Empty (as here) allows any client certificate. Examples:',
  '#   CN=<workspaceId>                       (every agent of a workspace)',
  '#   CN=host1, OU=Linux Monitoring Agent, O=Microsoft',
  '',
].join('\n');

/** Writes allowedlist_server.txt, allowedlist_client.txt and gateway.json into `dir`. */
export function initGatewayDir(o: InitOptions): InitResult {
  const ws = o.workspaceId.trim().toLowerCase();
  if (!LABEL.test(ws)) throw new InputError(`--workspace must be a workspace id (letters, digits and "-", e.g. a GUID), got ${JSON.stringify(o.workspaceId)}`);
  const account = o.blobAccount?.trim().toLowerCase() ?? ws;
  if (!LABEL.test(account)) throw new InputError(`--blob-account must be a storage account name (letters and digits), got ${JSON.stringify(o.blobAccount)}`);
  const agent = o.agent ?? 'legacy';
  if (!INIT_AGENTS.includes(agent)) throw new InputError(`--agent must be one of ${INIT_AGENTS.join(', ')}, got ${JSON.stringify(o.agent)}`);
  const region = o.amaRegion?.trim().toLowerCase() ?? 'eastus';
  if (!REGION_RE.test(region)) throw new InputError(`--region must be an Azure region name like eastus, got ${JSON.stringify(o.amaRegion)}`);
  const dce = o.amaDce?.trim().toLowerCase();
  if (dce !== undefined && !DCE_RE.test(dce)) throw new InputError(`--dce must be a data collection endpoint name (letters, digits and "-"), got ${JSON.stringify(o.amaDce)}`);
  if (agent === 'legacy' && (o.amaRegion !== undefined || o.amaDce !== undefined)) throw new InputError('--region and --dce are Azure Monitor Agent settings: add --agent ama (or all)');
  const legacyHosts = agent === 'ama' ? [] : defaultHosts(ws, account);
  const amaHosts = agent === 'legacy' ? [] : amaAllowlistHosts(ws, region, dce).filter((h) => !legacyHosts.includes(h));
  const serverText = agent === 'ama' ? amaAllowlistText(ws, region, dce) : agent === 'all' ? defaultServerAllowlistText(ws, account) + amaAllowlistText(ws, region, dce).split('\n').filter((l) => !legacyHosts.includes(l)).join('\n') : defaultServerAllowlistText(ws, account);
  const files = [join(o.dir, SERVER_ALLOWLIST_FILE), join(o.dir, CLIENT_ALLOWLIST_FILE), join(o.dir, CONFIG_FILE)];
  if (o.hostMap) files.push(join(o.dir, HOST_MAP_FILE));
  if (!o.force) {
    const existing = files.filter((f) => existsSync(f));
    if (existing.length) throw new InputError(`${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; use --force to overwrite`);
  }
  try {
    mkdirSync(o.dir, { recursive: true });
    writeFileSync(files[0], serverText);
    writeFileSync(files[1], DEFAULT_CLIENT_ALLOWLIST_TEXT);
    const config = { listenHost: '127.0.0.1', listenPort: 8080, adminHost: '127.0.0.1', adminPort: 8081, allowedPorts: [443], ...(o.hostMap ? { hostMapFile: HOST_MAP_FILE } : {}) };
    writeFileSync(files[2], JSON.stringify(config, null, 2) + '\n');
    if (o.hostMap) writeFileSync(files[3], ['# host-map.txt: where this gateway sends each host instead of DNS (host=ip:port), from the fake cloud', ...o.hostMap, ''].join('\n'));
  } catch (err) {
    throw new InputError(`cannot write into ${o.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { files, hosts: [...legacyHosts, ...amaHosts] };
}
