import { maskRelayUrl } from '../../gateway/routes/relay.js';

/** Settings as a person may see them: the relay password, the proxy password and the admin token masked. */
export function maskSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const out = { ...settings };
  if (typeof out.relayProxy === 'string') out.relayProxy = maskRelayUrl(out.relayProxy);
  if (typeof out.proxyAuth === 'string') out.proxyAuth = out.proxyAuth.replace(/:.*$/, ':****');
  if (out.adminToken) out.adminToken = '****';
  return out;
}
