import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { adminRequest, adminTarget, DEFAULT_ADMIN_URL } from '../../gateway/cli/admin-client.js';
import { print } from '../management/output.js';
import { withTimeoutOption } from '../management/target.js';

export function registerCounters(program: Command): void {
  withTimeoutOption(
    program
      .command('counters')
      .description('show the gateway performance counters ("OMS Gateway" object)')
      .option('--admin <url>', `management API (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
      .option('-w, --watch', 'refresh until Ctrl-C')
      .option('--interval-ms <ms>', 'refresh interval with --watch', '2000')
      .option('--json', 'JSON output'),
  )
    .addHelpText('after', '\nExamples:\n  omsgw counters\n  omsgw counters --watch --interval-ms 1000')
    .action(async (opts) => {
      const api = adminTarget(opts);
      const interval = Number(opts.intervalMs);
      if (!/^[0-9]+$/.test(opts.intervalMs) || interval < 100) throw new InputError(`--interval-ms must be an integer >= 100, got ${JSON.stringify(opts.intervalMs)}`);
      const once = async (): Promise<void> => {
        const c = await adminRequest<Record<string, unknown>>(api, 'GET', '/api/counters');
        if (opts.json) return print(JSON.stringify(c));
        const rows: Array<[string, unknown]> = [
          ['Active Client Connection', c.activeClientConnections],
          ['Connected Client (daily)', `${c.connectedClients}  (next reset ${c.connectedClientsNextReset})`],
          [`Connected clients, last ${c.connectedClientsWindowMinutes} min`, c.connectedClientsWindow],
          ['Rejection Count', c.rejectionCount],
          ['Error Count', c.errorCount],
          ['Tunnels (total / open)', `${c.tunnelsTotal} / ${c.tunnelsActive}`],
          ['Bytes in / out', `${c.bytesIn} / ${c.bytesOut}`],
        ];
        print(`${new Date().toISOString()}`);
        for (const [k, v] of rows) print(`  ${k.padEnd(34)} ${String(v)}`);
      };
      await once();
      if (!opts.watch) return;
      for (;;) {
        await new Promise((r) => setTimeout(r, interval));
        await once();
      }
    });
}
