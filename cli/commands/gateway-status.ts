import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { adminRequest, adminTarget, DEFAULT_ADMIN_URL, type AdminTarget } from '../../gateway/cli/admin-client.js';
import type { PendingView } from '../../gateway/settings/gateway-state.js';
import { uncoveredCloudHosts } from '../management/coverage.js';
import { print, printJson } from '../management/output.js';
import { withTimeoutOption } from '../management/target.js';

export function registerReload(gateway: Command): void {
  withTimeoutOption(
    gateway
      .command('reload')
      .description('re-read the allowlist, host-map and config files of a running gateway (POST /api/reload)')
      .option('--admin <url>', `management API URL (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
      .option('--token <token>', 'admin token (or $OMSGW_ADMIN_TOKEN)'),
  )
    .addHelpText('after', `\nExample:\n  omsgw gateway reload --admin http://127.0.0.1:8081`)
    .action(async (opts) => {
      const r = await adminRequest<{ summary: string }>(adminTarget(opts), 'POST', '/api/reload');
      print(`reloaded: ${r.summary}`);
    });
}

interface ConfigAnswer {
  config: Record<string, unknown>;
  configFile: string | null;
  proxy: { host: string; port: number } | null;
  live: { hostMap: string[]; hosts: string[]; clientSubjects: string[] };
  relayProxy: { address: string } | null;
  pending: PendingView;
}

async function cloudPatterns(url: string, api: AdminTarget): Promise<string[]> {
  const lab = adminTarget({ admin: url, timeout: String(api.timeoutMs / 1000) });
  const info = await adminRequest<{ hostMapEntries?: string[] }>(lab, 'GET', '/_lab/info').catch((err: Error) => {
    throw new InputError(`--cloud ${url}: ${err.message.replace(/management API/g, 'lab API')}`);
  });
  if (!Array.isArray(info.hostMapEntries)) throw new InputError(`--cloud ${url}: /_lab/info has no hostMapEntries; is it the lab API of \`omsgw cloud\`?`);
  return info.hostMapEntries.map((e) => e.slice(0, e.indexOf('=')));
}

const show = (v: unknown): string => (v === undefined || v === null ? '(not set)' : typeof v === 'string' ? v : JSON.stringify(v));

export function registerStatus(gateway: Command): void {
  withTimeoutOption(
    gateway
      .command('status')
      .description('what a running gateway uses (live) next to what is saved in its files, and which fake-cloud hosts it cannot route')
      .option('--admin <url>', `management API URL (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
      .option('--cloud <url>', 'lab API of `omsgw cloud` (e.g. http://127.0.0.1:9444): check the host map covers every host it serves')
      .option('--json', 'JSON output'),
  )
    .addHelpText('after', `\nExample:\n  omsgw gateway status --admin http://127.0.0.1:8081 --cloud http://127.0.0.1:9444`)
    .action(async (opts) => {
      const api = adminTarget(opts);
      const c = await adminRequest<ConfigAnswer>(api, 'GET', '/api/config');
      const p = c.pending;
      const uncovered = opts.cloud ? uncoveredCloudHosts(await cloudPatterns(opts.cloud, api), c.live.hostMap, !!c.relayProxy) : undefined;
      if (opts.json) return printJson({ live: c.live, relayProxy: c.relayProxy, pending: p, ...(uncovered ? { uncoveredCloudHosts: uncovered } : {}) });
      print(`gateway ${c.proxy ? `${c.proxy.host}:${c.proxy.port}` : '(not listening)'}; config file ${c.configFile ?? '(none)'}`);
      print(`live: ${c.live.hosts.length} allowed host(s), ${c.live.clientSubjects.length} client subject(s), ${c.live.hostMap.length} host-map entr${c.live.hostMap.length === 1 ? 'y' : 'ies'}, relay ${c.relayProxy?.address ?? '(none)'}`);
      if (p.error) print(`saved files cannot be read: ${p.error}`);
      const rows: Array<[string, string, string]> = [];
      const list = (what: string, d: { added: string[]; removed: string[] }) => {
        for (const v of d.added) rows.push([what, '(absent)', v]);
        for (const v of d.removed) rows.push([what, v, '(absent)']);
      };
      list('server allowlist', p.hosts);
      list('client allowlist', p.clientSubjects);
      list('host map', p.hostMap);
      for (const [k, s] of Object.entries(p.settings)) rows.push([`${k}${s.when === 'restart' ? ' (restart required)' : ''}`, show(s.live), show(s.saved)]);
      if (rows.length === 0) print('saved = live: nothing pending');
      else {
        const w = [Math.max(...rows.map((r) => r[0].length), 7), Math.max(...rows.map((r) => r[1].length), 4)];
        print(`${'pending'.padEnd(w[0])}  ${'live'.padEnd(w[1])}  saved (applied by \`omsgw gateway reload\` unless marked)`);
        for (const r of rows) print(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`);
      }
      if (uncovered) print(uncovered.length ? `fake-cloud hosts the gateway cannot route (add host-map entries or a relay proxy): ${uncovered.join(', ')}` : 'every fake-cloud host is covered by the host map or relay');
    });
}
