import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { machineResourceId, type AmaMachine } from './machine.js';
import { labTokenKey, mintToken } from './tokens.js';

/** What a lab can make the identity endpoint do wrong (the agent must report it, not lose data). */
export type ImdsTokenFault = 'expired' | 'wrong-audience';
export const IMDS_TOKEN_FAULTS: readonly ImdsTokenFault[] = ['expired', 'wrong-audience'];

export interface ImdsOptions {
  /** The lab CA: tokens are signed with a key derived from it (fake-oms-endpoints/ama/tokens.ts). */
  caPem: string;
  machine: AmaMachine;
  clock?: Clock;
  /** Token lifetime; Entra ID managed-identity tokens last about 24 h. */
  tokenLifetimeSec?: number;
  tokenFault?: ImdsTokenFault;
  /** Loopback address to bind (default 127.0.0.1); port 0 = ephemeral. */
  host?: string;
  port?: number;
}

export const IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token';
export const IMDS_INSTANCE_PATH = '/metadata/instance';

/**
 * The instance metadata service of one simulated machine (169.254.169.254 on a real VM), served on
 * loopback over plain HTTP. Agents call it directly, never through the proxy, like the real one.
 *   GET /metadata/instance?api-version=...               (Metadata: true) compute metadata
 *   GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=<uri>  (Metadata: true)
 */
export class ImdsServer {
  private readonly server = http.createServer((req, res) => this.route(req, res));
  private readonly key: Buffer;
  private readonly clock: Clock;
  /** Tokens issued so far (tests check the agent caches them). */
  tokensIssued = 0;
  tokenFault?: ImdsTokenFault;
  port = 0;

  constructor(private readonly opts: ImdsOptions) {
    if (opts.tokenFault !== undefined && !IMDS_TOKEN_FAULTS.includes(opts.tokenFault)) throw new InputError(`IMDS token fault must be one of ${IMDS_TOKEN_FAULTS.join(', ')}, got ${JSON.stringify(opts.tokenFault)}`);
    this.key = labTokenKey(opts.caPem);
    this.clock = opts.clock ?? systemClock;
    this.tokenFault = opts.tokenFault;
  }

  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://169.254.169.254');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    // IMDS refuses requests without the header and requests that came through a proxy
    // (X-Forwarded-For), so that a server-side request forgery cannot reach it.
    if (String(req.headers.metadata ?? '').toLowerCase() !== 'true') return send(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    if (req.headers['x-forwarded-for'] !== undefined) return send(400, { error: 'invalid_request', error_description: 'Request contains X-Forwarded-For header' });
    if (req.method !== 'GET') return send(405, { error: 'invalid_request', error_description: `${req.method} is not supported` });
    if (!url.searchParams.get('api-version')) return send(400, { error: 'Bad request. api-version was not specified in the request' });
    const m = this.opts.machine;
    if (url.pathname === IMDS_INSTANCE_PATH) {
      return send(200, { compute: { location: m.location, name: m.name, resourceGroupName: m.resourceGroupName, subscriptionId: m.subscriptionId, vmId: m.vmId, osType: m.platform === 'linux' ? 'Linux' : 'Windows', resourceId: machineResourceId(m) } });
    }
    if (url.pathname === IMDS_TOKEN_PATH) {
      const resource = url.searchParams.get('resource');
      if (!resource) return send(400, { error: 'invalid_request', error_description: 'Required query variable resource is missing' });
      const now = Math.floor(this.clock.now() / 1000);
      const lifetime = this.opts.tokenLifetimeSec ?? 86_400;
      const exp = this.tokenFault === 'expired' ? now - 60 : now + lifetime;
      const aud = this.tokenFault === 'wrong-audience' ? 'https://management.azure.com/' : resource;
      const token = mintToken({ aud, iss: 'https://sts.windows.net/omsgw-lab-tenant/', iat: now, nbf: now, exp, oid: m.principalId, sub: m.principalId, xms_mirid: machineResourceId(m) }, this.key);
      this.tokensIssued++;
      return send(200, { access_token: token, client_id: m.principalId, expires_in: String(exp - now), expires_on: String(exp), ext_expires_in: String(exp - now), not_before: String(now), resource, token_type: 'Bearer' });
    }
    return send(404, { error: 'not_found', error_description: `no such metadata endpoint: ${url.pathname}` });
  }
}
