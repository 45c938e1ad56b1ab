import { Agent, request } from 'undici';
import { AgentError } from '../agent-core/errors.js';

export const IMDS_API_VERSION = '2018-02-01';
export const INSTANCE_API_VERSION = '2021-02-01';
/** The resource the agent asks its managed-identity token for (seen as `azureResourceEndpoint` in its logs). */
export const MONITOR_RESOURCE = 'https://monitor.azure.com/';

export interface InstanceCompute {
  location: string;
  name: string;
  resourceGroupName: string;
  subscriptionId: string;
  vmId: string;
}

export interface ManagedIdentityToken {
  accessToken: string;
  /** Epoch ms. */
  expiresOn: number;
}

/**
 * The local instance metadata service, called directly (never through the proxy: IMDS refuses
 * proxied requests and lives on the machine's own link).
 */
export class ImdsClient {
  private readonly dispatcher = new Agent({ connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  constructor(private readonly baseUrl: string) {}

  private async get(path: string): Promise<unknown> {
    const target = new URL(this.baseUrl).host;
    let res;
    try {
      res = await request(`${this.baseUrl}${path}`, { method: 'GET', headers: { Metadata: 'true' }, dispatcher: this.dispatcher });
    } catch (err) {
      throw new AgentError(`Cannot reach the instance metadata service at ${this.baseUrl}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'network', { phase: 'imds', target, cause: err });
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new AgentError(`Instance metadata service answered ${res.statusCode}: ${text.slice(0, 200)}`, 'http', { phase: 'imds', target, statusCode: res.statusCode });
    try {
      return JSON.parse(text);
    } catch {
      throw new AgentError(`Instance metadata service answered 200 with something that is not JSON: ${text.slice(0, 100)}`, 'protocol', { phase: 'imds', target });
    }
  }

  async instance(): Promise<InstanceCompute> {
    const body = (await this.get(`/metadata/instance?api-version=${INSTANCE_API_VERSION}`)) as { compute?: Partial<InstanceCompute> };
    const c = body?.compute;
    for (const k of ['location', 'name', 'resourceGroupName', 'subscriptionId', 'vmId'] as const) {
      if (typeof c?.[k] !== 'string' || c[k] === '') throw new AgentError(`Instance metadata has no compute.${k}`, 'protocol', { phase: 'imds' });
    }
    return c as InstanceCompute;
  }

  async token(resource = MONITOR_RESOURCE): Promise<ManagedIdentityToken> {
    const body = (await this.get(`/metadata/identity/oauth2/token?api-version=${IMDS_API_VERSION}&resource=${encodeURIComponent(resource)}`)) as Record<string, unknown>;
    if (typeof body.access_token !== 'string' || !/^\d+$/.test(String(body.expires_on))) throw new AgentError('Instance metadata token answer has no access_token or expires_on', 'protocol', { phase: 'imds' });
    return { accessToken: body.access_token, expiresOn: Number(body.expires_on) * 1000 };
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }
}
