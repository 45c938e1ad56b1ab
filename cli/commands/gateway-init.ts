import { resolve } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { adminRequest, adminTarget } from '../../gateway/cli/admin-client.js';
import { INIT_AGENTS, initGatewayDir } from '../../gateway/init.js';
import { print } from '../management/output.js';

export function registerInit(gateway: Command): void {
  gateway
    .command('init')
    .description("write a gateway folder with the default allowlists a 2016 preview install had for a workspace")
    .option('--workspace <id>', 'workspace id (or take it from --from-cloud)')
    .option('--from-cloud <url>', 'lab API of `omsgw cloud` (e.g. http://127.0.0.1:9444): its workspace, and a host map covering every host it serves')
    .option('--dir <folder>', 'where to write the files (default: the current folder)')
    .option('--blob-account <name>', 'storage account of the blob host (default: the workspace id)')
    .option('--force', 'overwrite existing files')
    .addOption(new Option('--agent <kind>', 'agents the allowlist is for: legacy (2016 defaults), ama (the documented Azure Monitor Agent hosts) or all').choices(INIT_AGENTS).default('legacy' as const))
    .option('--region <name>', 'with --agent ama|all: the machines\' Azure region, for <region>.handler.control.monitor.azure.com (default eastus)')
    .option('--dce <name>', 'with --agent ama|all: a data collection endpoint name; adds its handler and ingestion hosts')
    .addHelpText(
      'after',
      `
Example:
  omsgw gateway init --workspace 0123abcd-0000-4000-8000-000000000001 --dir ./gw
  omsgw gateway init --from-cloud http://127.0.0.1:9444 --dir ./gw

The server allowlist gets <ws>.oms.opinsights.azure.com, <ws>.ods.opinsights.azure.com and
<account>.blob.core.windows.net, but not the automation agent-service host, which is exactly why
the Linux agent fails through it (event 105).

--agent ama writes the hosts the gateway documentation lists for the Azure Monitor Agent instead:
global.handler.control.monitor.azure.com, <region>.handler.control.monitor.azure.com and
<ws>.ods.opinsights.azure.com (plus <dce>.<region>-1.handler/ingest hosts with --dce); --agent all
writes both sets.`,
    )
    .action(async (opts, cmd) => {
      // `gateway` itself has a --dir flag, which commander fills first; read it from there too.
      const dir = opts.dir ?? (cmd.optsWithGlobals() as { dir?: string }).dir ?? '.';
      let workspaceId = opts.workspace;
      let hostMap: string[] | undefined;
      if (opts.fromCloud !== undefined) {
        const info = await adminRequest<{ workspaces?: string[]; hostMapEntries?: string[] }>(adminTarget({ admin: opts.fromCloud }), 'GET', '/_lab/info').catch((err: Error) => {
          throw new InputError(`--from-cloud ${opts.fromCloud}: ${err.message.replace(/gateway management API/g, 'fake cloud lab API')}`);
        });
        if (!Array.isArray(info.workspaces) || !Array.isArray(info.hostMapEntries)) throw new InputError(`--from-cloud ${opts.fromCloud}: /_lab/info is not the lab API of \`omsgw cloud\``);
        workspaceId ??= info.workspaces[0];
        hostMap = info.hostMapEntries;
      }
      if (workspaceId === undefined) throw new InputError('give --workspace <id> or --from-cloud <lab API URL>');
      const r = initGatewayDir({ workspaceId, dir: resolve(dir), blobAccount: opts.blobAccount, force: opts.force, agent: opts.agent, amaRegion: opts.region, amaDce: opts.dce, hostMap });
      for (const f of r.files) print(`wrote ${f}`);
      print(`allowed hosts: ${r.hosts.join(', ')}`);
      print(`start it with: omsgw gateway --dir ${dir}`);
    });
}
