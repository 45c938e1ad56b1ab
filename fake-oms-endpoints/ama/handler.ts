import type { CloudRequest, Reply } from '../request.js';
import { GLOBAL_HANDLER_HOST, dceHandlerHost, regionalHandlerHost, type AmaHostClass } from './hosts.js';
import { agentConfiguration, dcrIdFor, dceChannelId, HANDLER_API_VERSION } from './agent-config.js';
import { machineResourceId, workspaceOfResourceGroup, type AmaMachine } from './machine.js';
import type { AmaState } from './state.js';
import { INGESTION_AUDIENCE, INGESTION_ISSUER, MONITOR_AUDIENCE, mintToken, parseBearer, verifyToken, type Claims } from './tokens.js';

const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };
/** The handler's error shape, as the agent logs it: {"error":{"code":"...","message":"..."}}. */
export function amaError(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { ...JSON_CT, ...headers }, body: JSON.stringify({ error: { code, message } }) };
}
const ok = (body: unknown): Reply => ({ status: 200, headers: JSON_CT, body: JSON.stringify(body) });

const CONFIG_RE = /^\/locations\/([^/]+)\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.compute\/virtualmachines\/([^/]+)\/agentconfigurations$/i;
const TOKEN_RE = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.compute\/virtualmachines\/([^/]+)\/agentconfigurations\/([^/]+)\/channels\/([^/]+)\/issueingestiontoken$/i;

/** Checks the managed-identity token: 401 for a missing, bad, expired or wrong-audience token. */
function authenticate(req: CloudRequest, state: AmaState): { ok: true; claims: Claims } | { ok: false; reply: Reply } {
  const check = verifyToken(parseBearer(req.headers.authorization), state.key!, MONITOR_AUDIENCE, state.clock.now());
  if (!check.ok) return { ok: false, reply: amaError(401, check.code, check.message, { 'www-authenticate': `Bearer error="invalid_token", error_description="${check.message.replace(/"/g, "'")}"` }) };
  return check;
}

/** The caller may only act for the machine its managed identity belongs to. */
function sameResource(claims: Claims, resourceId: string): boolean {
  return typeof claims.xms_mirid === 'string' && claims.xms_mirid.toLowerCase() === resourceId.toLowerCase();
}

/**
 * The control plane ("AMCS" handler): agent configurations (data collection rules) and ingestion
 * tokens, on the global, regional and DCE handler hosts. See docs/fake-cloud.md, "Azure Monitor Agent".
 */
export function handleAmaHandler(req: CloudRequest, host: AmaHostClass, state: AmaState): Reply {
  const s = state.settings;
  if (req.path.toLowerCase() === '/ping') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'Healthy' };
  if (host.kind === 'regional-handler' && host.region !== s.region) return amaError(421, 'MisdirectedAgentRequest', `this lab's machines are in region ${s.region}; use https://${regionalHandlerHost(s.region)}`);
  if (host.kind === 'dce-handler' && (host.dce !== s.dce || host.region !== s.region)) return amaError(404, 'DataCollectionEndpointNotFound', `no data collection endpoint ${host.dce} in ${host.region}`);
  if (req.method !== 'GET') return amaError(405, 'MethodNotAllowed', `${req.method} is not supported; agent configurations and ingestion tokens are GET`);
  const apiVersion = req.query.get('api-version');
  if (apiVersion !== HANDLER_API_VERSION) return amaError(400, 'InvalidApiVersion', `api-version must be ${HANDLER_API_VERSION}, got ${apiVersion ?? 'none'}`);
  const config = CONFIG_RE.exec(req.path);
  if (config) return agentConfigurations(req, host, config, state);
  const token = TOKEN_RE.exec(req.path);
  if (token) return issueIngestionToken(req, host, token, state);
  return amaError(404, 'NotFound', `no such handler operation: ${req.path}`);
}

function misdirect(to: string): Reply {
  return amaError(421, 'MisdirectedAgentRequest', `Agent configuration needs to be acquired from 'https://${to}' endpoint which was configured for this resource.`);
}

function agentConfigurations(req: CloudRequest, host: AmaHostClass, m: RegExpExecArray, state: AmaState): Reply {
  const s = state.settings;
  // Which handler serves the configuration, and where the others send the agent.
  const server = s.configVia === 'global' ? 'global-handler' : s.configVia === 'dce' ? 'dce-handler' : 'regional-handler';
  if (s.configVia === 'loop') {
    if (host.kind === 'global-handler') return misdirect(regionalHandlerHost(s.region));
    return misdirect(GLOBAL_HANDLER_HOST);
  }
  if (host.kind !== server) return misdirect(server === 'global-handler' ? GLOBAL_HANDLER_HOST : server === 'dce-handler' ? dceHandlerHost(s.dce!, s.region) : regionalHandlerHost(s.region));
  const auth = authenticate(req, state);
  if (!auth.ok) return auth.reply;
  const [, location, subscriptionId, resourceGroupName, name] = m as unknown as string[];
  const platform = req.query.get('platform');
  if (platform !== 'linux' && platform !== 'windows') return amaError(400, 'InvalidPlatform', `platform must be linux or windows, got ${platform ?? 'none'}`);
  const machine: AmaMachine = { subscriptionId: subscriptionId!, resourceGroupName: resourceGroupName!, name: name!, location: location!, vmId: '', principalId: String(auth.claims.oid ?? ''), platform };
  const resourceId = machineResourceId(machine);
  if (!sameResource(auth.claims, resourceId)) return amaError(403, 'AuthorizationFailed', `the token's managed identity belongs to ${String(auth.claims.xms_mirid)}, not ${resourceId}`);
  const seen = state.machine(machine.principalId, resourceId);
  seen.configFetches++;
  const ws = workspaceOfResourceGroup(resourceGroupName!);
  // No association: the real handler answers with an empty list (the agent then collects nothing).
  if (!ws || !state.keyOf(ws)) return ok({ configurations: [] });
  seen.workspaceId = ws;
  return ok(agentConfiguration(machine, ws, s));
}

function issueIngestionToken(req: CloudRequest, host: AmaHostClass, m: RegExpExecArray, state: AmaState): Reply {
  if (host.kind === 'global-handler') return misdirect(regionalHandlerHost(state.settings.region));
  const auth = authenticate(req, state);
  if (!auth.ok) return auth.reply;
  const [, subscriptionId, resourceGroupName, name, dcrId, channelId] = m as unknown as string[];
  const resourceId = machineResourceId({ subscriptionId: subscriptionId!, resourceGroupName: resourceGroupName!, name: name! });
  if (!sameResource(auth.claims, resourceId)) return amaError(403, 'AuthorizationFailed', `the token's managed identity belongs to ${String(auth.claims.xms_mirid)}, not ${resourceId}`);
  const ws = workspaceOfResourceGroup(resourceGroupName!);
  if (!ws || !state.keyOf(ws) || dcrId!.toLowerCase() !== dcrIdFor(ws)) return amaError(404, 'ConfigurationNotFound', `data collection rule ${dcrId} is not associated with ${resourceId}`);
  const channels = [`ods-${ws}`, ...(state.settings.dce ? [dceChannelId(state.settings.dce)] : [])];
  if (!channels.includes(channelId!.toLowerCase())) return amaError(404, 'ChannelNotFound', `rule ${dcrId} has no channel ${channelId} (it has ${channels.join(', ')})`);
  const now = Math.floor(state.clock.now() / 1000);
  const seen = state.machine(String(auth.claims.oid ?? ''), resourceId);
  seen.tokensIssued++;
  const token = mintToken(
    { role: 'Publisher', wid: ws, ips: 'LogManagement', targetRid: resourceId, skloc: state.settings.region, cid: dcrId!.toLowerCase(), channel: channelId!.toLowerCase(), oid: auth.claims.oid, nbf: now, iat: now, exp: now + 86_400, iss: INGESTION_ISSUER, aud: INGESTION_AUDIENCE },
    state.key!,
  );
  return ok({ ingestionAuthToken: token });
}
