import type { Command } from '@commander-js/extra-typings';
import { adminRequest, adminTarget, DEFAULT_ADMIN_URL } from '../../gateway/cli/admin-client.js';
import { print } from '../management/output.js';
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
