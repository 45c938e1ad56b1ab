import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../lib/errors.js';
import { DEFAULT_PORTS, DEFAULT_WORKSPACE } from './hosts.js';
import { REPORTERS, type ReporterName } from './reporters/index.js';
import type { GatewayTarget, SuiteOptions, TlsPolicyName } from './types.js';

/** Flags of `omsgw conformance` as commander hands them over (strings). */
export interface ConformanceFlags {
  gateway?: string;
  admin?: string;
  reporter: string;
  out?: string;
  cases?: string;
  proxyAuth?: string;
  relayAuth?: string;
  tlsPolicy: string;
  headTimeoutMs: string;
  idleTimeoutMs?: string;
  cloudPort: string;
  echoPort: string;
  relayPort: string;
  workspace: string;
  stateDir?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseGatewayFlag(text: string): GatewayTarget {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new InputError(`--gateway must be host:port, e.g. 127.0.0.1:3128, got ${JSON.stringify(text)}`);
  const host = m[1].replace(/^\[|\]$/g, '');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== '::1' && host !== 'localhost') throw new InputError(`--gateway must be a loopback address (127.0.0.0/8, ::1 or localhost), got ${host}`);
  return { host, port };
}

function port(flag: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new InputError(`${flag} must be a port number 1-65535, got ${JSON.stringify(text)}`);
  return Number(text);
}

function ms(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 3_600_000) throw new InputError(`${flag} must be a whole number of milliseconds from 1 to 3600000, got ${JSON.stringify(text)}`);
  return Number(text);
}

function credentials(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^[^:\s]+:\S+$/.test(text)) throw new InputError(`${flag} must be user:password, got ${JSON.stringify(text)}`);
  return text;
}

function adminUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`--admin must be a URL such as http://127.0.0.1:8081, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:') throw new InputError(`--admin must be an http:// URL, got ${JSON.stringify(text)}`);
  return text.replace(/\/$/, '');
}

export function parseReporterFlag(name: string): ReporterName {
  if ((REPORTERS as readonly string[]).includes(name)) return name as ReporterName;
  throw new InputError(`--reporter must be one of ${REPORTERS.join(', ')}, got ${JSON.stringify(name)}`);
}

export function parsePortFlags(f: Pick<ConformanceFlags, 'cloudPort' | 'echoPort' | 'relayPort'>): { cloudPort: number; echoPort: number; relayPort: number } {
  const p = { cloudPort: port('--cloud-port', f.cloudPort), echoPort: port('--echo-port', f.echoPort), relayPort: port('--relay-port', f.relayPort) };
  if (new Set(Object.values(p)).size !== 3) throw new InputError(`--cloud-port, --echo-port and --relay-port must differ, got ${p.cloudPort}, ${p.echoPort}, ${p.relayPort}`);
  return p;
}

/** Every flag checked before anything starts: a bad one is an input error (exit 2) with nothing half-run. */
export function parseConformanceFlags(f: ConformanceFlags): Omit<SuiteOptions, 'gateway'> & { gateway?: GatewayTarget; reporter: ReporterName; out?: string } {
  const tlsPolicy = f.tlsPolicy as TlsPolicyName;
  if (tlsPolicy !== 'current' && tlsPolicy !== 'preview-2016') throw new InputError(`--tls-policy must be current (TLS 1.0–1.3) or preview-2016 (TLS 1.0–1.2), got ${JSON.stringify(f.tlsPolicy)}`);
  if (!GUID.test(f.workspace)) throw new InputError(`--workspace must be a workspace GUID, got ${JSON.stringify(f.workspace)}`);
  return {
    gateway: f.gateway === undefined ? undefined : parseGatewayFlag(f.gateway),
    admin: adminUrl(f.admin),
    reporter: parseReporterFlag(f.reporter),
    out: f.out,
    cases: f.cases === undefined ? undefined : f.cases.split(',').map((s) => s.trim()).filter(Boolean),
    proxyAuth: credentials('--proxy-auth', f.proxyAuth),
    relayAuth: credentials('--relay-auth', f.relayAuth),
    tlsPolicy,
    headTimeoutMs: ms('--head-timeout-ms', f.headTimeoutMs),
    idleTimeoutMs: f.idleTimeoutMs === undefined ? undefined : ms('--idle-timeout-ms', f.idleTimeoutMs),
    ...parsePortFlags(f),
    workspaceId: f.workspace.toLowerCase(),
    stateDir: f.stateDir ?? mkdtempSync(join(tmpdir(), 'omsgw-conformance-')),
  };
}

export const FLAG_DEFAULTS = { cloudPort: String(DEFAULT_PORTS.cloud), echoPort: String(DEFAULT_PORTS.echo), relayPort: String(DEFAULT_PORTS.relay), workspace: DEFAULT_WORKSPACE };
