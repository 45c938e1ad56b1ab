import type { Socket } from 'node:net';
import type { Authority } from '../connect/authority.js';
import type { LiveSettings } from '../live-settings.js';
import type { Refusal } from '../statuses.js';
import { connectDirect } from './direct.js';
import { connectViaRelay } from './relay.js';
import { UpstreamError } from './upstream-error.js';

export type RouteResult = { ok: true; upstream: Socket; via: string } | { ok: false; refusal: Refusal };

/**
 * Opens the upstream for an accepted target, by the first route that applies: the host map, then
 * the relay proxy, then a direct connection (which refuses private addresses unless allowed).
 * A failure comes back as the refusal to answer with, never as a throw.
 */
export async function openRoute(authority: Authority, settings: Pick<LiveSettings, 'hostMap' | 'relay' | 'allowPrivateUpstream'>, timeoutMs: number): Promise<RouteResult> {
  const target = authority.display;
  const mapped = settings.hostMap.lookup(authority.host);
  try {
    if (mapped) {
      const upstream = await connectDirect({ host: mapped.host, port: mapped.port, label: `${target} (mapped to ${mapped.host}:${mapped.port})`, refusePrivate: false, timeoutMs });
      return { ok: true, upstream, via: `host map ${mapped.host}:${mapped.port}` };
    }
    if (settings.relay) {
      const upstream = await connectViaRelay(settings.relay, target, timeoutMs);
      return { ok: true, upstream, via: `relay ${settings.relay.host}:${settings.relay.port}` };
    }
    const upstream = await connectDirect({ host: authority.host, port: authority.port, label: target, refusePrivate: !settings.allowPrivateUpstream, timeoutMs });
    return { ok: true, upstream, via: 'direct' };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    // A private upstream is a policy refusal and says so; the others say the target could not be reached.
    const says = err.kind === 'private-upstream' ? err.message : `Cannot reach ${target}: ${err.message}`;
    return { ok: false, refusal: { kind: err.kind, detail: says, answer: says, target } };
  }
}
