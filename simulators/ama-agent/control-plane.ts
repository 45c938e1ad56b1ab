import { randomUUID } from 'node:crypto';
import { AgentError, type AgentPhase } from '../agent-core/errors.js';
import { parseAgentConfiguration, type AgentConfiguration, type Channel } from './configuration.js';
import type { InstanceCompute } from './imds-client.js';
import type { AmaResponse, AmaTransport } from './transport.js';

export const GLOBAL_HANDLER = 'global.handler.control.monitor.azure.com';
export const HANDLER_API_VERSION = '2022-06-02';
/** Hops the agent follows from the global handler before calling it a redirect loop (assumed). */
export const MAX_HANDLER_HOPS = 4;

/** `{"error":{"code","message"}}` → "code: message" (the handler's error shape). */
export function describeError(res: AmaResponse): string {
  try {
    const e = (JSON.parse(res.body.toString('utf8')) as { error?: { code?: string; message?: string } }).error;
    if (e?.code || e?.message) return `${e.code ?? ''}${e.code && e.message ? ': ' : ''}${e.message ?? ''}`;
  } catch {
    /* not JSON: fall through */
  }
  return res.body.toString('utf8', 0, Math.min(res.body.length, 200)).trim() || res.statusText;
}

export function httpFailure(phase: AgentPhase, what: string, url: string, res: AmaResponse): AgentError {
  const u = new URL(url);
  return new AgentError(`${what}: ${u.host} answered ${res.statusCode} ${describeError(res)}`, 'http', { phase, target: `${u.hostname}:${u.port || 443}`, statusCode: res.statusCode, retryAfterMs: res.retryAfterMs });
}

/**
 * The agent's side of the control plane ("MCS"): its configuration from the global handler,
 * following 421 MisdirectedAgentRequest to the regional or DCE handler it names, and ingestion tokens.
 */
export class ControlPlane {
  /** Hosts the last configuration fetch went through, in order (status and tests). */
  lastHops: string[] = [];

  constructor(
    private readonly http: AmaTransport,
    private readonly compute: InstanceCompute,
    private readonly platform: 'linux' | 'windows',
    private readonly userAgent: string,
  ) {}

  private headers(token: string): Record<string, string> {
    return { authorization: `Bearer ${token}`, 'user-agent': this.userAgent, 'x-ms-client-request-id': randomUUID(), accept: 'application/json' };
  }

  configurationPath(): string {
    const c = this.compute;
    return `/locations/${c.location}/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroupName}/providers/Microsoft.Compute/virtualMachines/${c.name}/agentConfigurations?platform=${this.platform}&includeMeConfig=true&api-version=${HANDLER_API_VERSION}`;
  }

  async fetchConfiguration(msiToken: string): Promise<AgentConfiguration> {
    let host = GLOBAL_HANDLER;
    const hops = [host];
    this.lastHops = hops;
    for (;;) {
      const url = `https://${host}${this.configurationPath()}`;
      const res = await this.http.request('GET', url, this.headers(msiToken)).catch((err: AgentError) => {
        throw err.withPhase('config');
      });
      if (res.statusCode === 200) return parseAgentConfiguration(res.body, `${host}:443`);
      if (res.statusCode !== 421) throw httpFailure('config', 'Agent configuration refused', url, res);
      const next = /acquired from '(https:\/\/[^']+)'/.exec(describeError(res))?.[1];
      if (!next) throw new AgentError(`Handler ${host} answered 421 without naming the handler to use: ${describeError(res)}`, 'protocol', { phase: 'config', target: `${host}:443`, statusCode: 421 });
      const nextHost = new URL(next).hostname.toLowerCase();
      if (hops.includes(nextHost) || hops.length >= MAX_HANDLER_HOPS) {
        throw new AgentError(`Handler redirect loop: ${[...hops, nextHost].join(' -> ')} (each answered 421 MisdirectedAgentRequest)`, 'protocol', { phase: 'config', target: `${host}:443`, statusCode: 421 });
      }
      hops.push(nextHost);
      host = nextHost;
    }
  }

  async ingestionToken(channel: Channel, msiToken: string): Promise<{ token: string; expiresOn: number }> {
    const res = await this.http.request('GET', channel.tokenEndpointUri, this.headers(msiToken)).catch((err: AgentError) => {
      throw err.withPhase('ingestion-token');
    });
    if (res.statusCode !== 200) throw httpFailure('ingestion-token', `Ingestion token for channel ${channel.id} refused`, channel.tokenEndpointUri, res);
    let token: unknown;
    try {
      token = (JSON.parse(res.body.toString('utf8')) as { ingestionAuthToken?: unknown }).ingestionAuthToken;
    } catch {
      /* handled below */
    }
    const u = new URL(channel.tokenEndpointUri);
    if (typeof token !== 'string' || token.split('.').length !== 3) throw new AgentError(`Ingestion token answer from ${u.host} has no ingestionAuthToken JWT`, 'protocol', { phase: 'ingestion-token', target: `${u.hostname}:443` });
    let expiresOn = 0;
    try {
      expiresOn = Number((JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp?: number }).exp) * 1000;
    } catch {
      /* no exp: refetch every time */
    }
    return { token, expiresOn: Number.isFinite(expiresOn) ? expiresOn : 0 };
  }
}
