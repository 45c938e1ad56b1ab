import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { initGatewayDir } from '../../gateway/init.js';
import { print } from '../management/output.js';

export function registerInit(gateway: Command): void {
  gateway
    .command('init')
    .description("write a gateway folder with the default allowlists a 2016 preview install had for a workspace")
    .requiredOption('--workspace <id>', 'workspace id')
    .option('--dir <folder>', 'where to write the files (default: the current folder)')
    .option('--blob-account <name>', 'storage account of the blob host (default: the workspace id)')
    .option('--force', 'overwrite existing files')
    .addHelpText(
      'after',
      `
Example:
  omsgw gateway init --workspace 0123abcd-0000-4000-8000-000000000001 --dir ./gw

The server allowlist gets <ws>.oms.opinsights.azure.com, <ws>.ods.opinsights.azure.com and
<account>.blob.core.windows.net, but not the automation agent-service host, which is exactly why
the Linux agent fails through it (event 105).`,
    )
    .action((opts, cmd) => {
      // `gateway` itself has a --dir flag, which commander fills first; read it from there too.
      const dir = opts.dir ?? (cmd.optsWithGlobals() as { dir?: string }).dir ?? '.';
      const r = initGatewayDir({ workspaceId: opts.workspace, dir: resolve(dir), blobAccount: opts.blobAccount, force: opts.force });
      for (const f of r.files) print(`wrote ${f}`);
      print(`allowed hosts: ${r.hosts.join(', ')}`);
      print(`start it with: omsgw gateway --dir ${dir}`);
    });
}
