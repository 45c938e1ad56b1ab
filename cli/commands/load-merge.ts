import type { Command } from '@commander-js/extra-typings';
import { readFileSync, writeFileSync } from 'node:fs';
import { InputError } from '../../lib/errors.js';
import type { GatewayCounterValues } from '../../load/accuracy.js';
import { fetchResults, openLab } from '../../load/shard/lab.js';
import { checkShards, formatMerged, mergeShards, type ShardInput } from '../../load/shard/merge.js';
import { parseRunId } from '../../load/shard/spec.js';

function readShardFile(file: string): ShardInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return { source: file, report: JSON.parse(text) };
  } catch {
    throw new InputError(`${file} is not JSON (give the files omsgw load --shard k/n --json wrote)`);
  }
}

async function readCounters(adminUrl: string): Promise<GatewayCounterValues> {
  let res: Response;
  try {
    res = await fetch(`${adminUrl}/api/counters`, { signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new InputError(`--admin ${adminUrl}: cannot read /api/counters (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); give the gateway's management API URL`);
  }
  const c = (await res.json().catch(() => undefined)) as GatewayCounterValues | undefined;
  if (!res.ok || !c || typeof c.activeClientConnections !== 'number') throw new InputError(`--admin ${adminUrl}: GET /api/counters answered ${res.status} without the gateway counters; is it an omsgw gateway's management API?`);
  return { activeClientConnections: c.activeClientConnections, connectedClients: c.connectedClients, rejectionCount: c.rejectionCount, errorCount: c.errorCount };
}

export function registerLoadMergeCommand(load: Command<[], Record<string, unknown>>): void {
  load
    .command('merge')
    .description('Join the results of omsgw load --shard k/n into one report, and compare the shared gateway\'s counters with the shards\' summed truths')
    .argument('[files...]', 'shard results written by omsgw load --shard k/n --json <file>')
    .option('--from <lab-url>', 'collect the results the shards published (--publish) to this omsgw cloud\'s lab API')
    .option('--run-id <id>', 'with --from: the run to collect')
    .option('--shards <n>', 'how many shards the run has (missing ones are an error)')
    .option('--admin <url>', 'the shared gateway\'s management API: its counters must equal the summed truths')
    .option('--settle <ms>', 'how long to let the gateway\'s counters catch up with the truth before calling a difference', '5000')
    .option('--json <file>', 'write the merged report as JSON')
    .addHelpText(
      'after',
      `
Exit status: 0 when nothing was lost and every counter equals the summed truth; 1 otherwise; 2 for bad
input (different runs or seeds, duplicate or missing shards, a URL that is not an omsgw cloud).

Examples:
  omsgw load merge shard-1.json shard-2.json shard-3.json --admin http://127.0.0.1:8081
  omsgw load merge --from http://omsgw-cloud.omsgw.svc:9444 --run-id k8s-run-1 --shards 10 --admin http://omsgw-gateway.omsgw.svc:8081`,
    )
    .action(async (files, opts) => {
      if (opts.from !== undefined && files.length) throw new InputError('give either result files or --from <lab API URL>, not both');
      if (opts.from !== undefined && opts.runId === undefined) throw new InputError('--from needs --run-id <id>: the run whose shards to collect');
      if (opts.from === undefined && opts.runId !== undefined) throw new InputError('--run-id selects a run on --from <lab API URL>; with files, each file names its run');
      const shards = opts.shards === undefined ? undefined : /^[1-9]\d*$/.test(opts.shards) ? Number(opts.shards) : (() => { throw new InputError(`--shards must be a whole number >= 1, got "${opts.shards}"`); })();
      if (!/^\d+$/.test(opts.settle)) throw new InputError(`--settle must be milliseconds (a whole number), got "${opts.settle}"`);
      let inputs: ShardInput[];
      if (opts.from !== undefined) {
        const runId = parseRunId(opts.runId!);
        const lab = await openLab(opts.from, '--from');
        inputs = (await fetchResults(lab, runId)).map(({ shard, result }) => ({ source: `${lab.url} shard ${shard}`, report: result }));
      } else {
        inputs = files.map(readShardFile);
      }
      const reports = checkShards(inputs, shards, opts.runId);
      let gateway: GatewayCounterValues | null = null;
      if (opts.admin !== undefined) {
        const until = Date.now() + Number(opts.settle);
        // The last closes may still be in flight at the gateway: wait (bounded) until its counters agree.
        for (;;) {
          gateway = await readCounters(opts.admin.replace(/\/+$/, ''));
          const merged = mergeShards(reports, inputs.map((i) => i.source), gateway);
          if (merged.rows.every((r) => r.ok) || Date.now() >= until) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const merged = mergeShards(reports, inputs.map((i) => i.source), gateway);
      if (opts.json) writeFileSync(opts.json, JSON.stringify(merged, null, 2) + '\n');
      process.stdout.write(formatMerged(merged) + '\n');
      if (!merged.ok) process.exitCode = 1;
    });
}
