import type { Command } from '@commander-js/extra-typings';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { parseIdleTunnels, runBench, WORKLOADS } from '../../bench/run.js';
import { formatText, renderBenchHtml } from '../../bench/report.js';

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

export function registerBenchCommands(program: Command): void {
  program
    .command('bench')
    .description('Benchmark omsgw against direct, squid, tinyproxy and a naive Node proxy with the same tunnel driver and upstream')
    .option('--quick', 'short smoke run (under two minutes)', false)
    .option('--peers <names>', 'comma list of peers: direct,omsgw,omsgw-noinspect,squid,tinyproxy,naive-node', list)
    .option('--workloads <names>', `comma list of workloads: ${WORKLOADS.join(',')}`, list)
    .option('--idle-tunnels <counts>', 'comma list of tunnel counts for the idle workload (default 1000,8000; --quick 1000)', list)
    .option('--no-install', 'do not apt-get install missing peers (they are reported as skipped)')
    .option('--out <dir>', 'folder for <date>.json and <date>.html (default bench/results)')
    .option('--cpu-prof', 'run the omsgw gateway under node --cpu-prof; profiles go to <out>/cpu-prof/', false)
    .addHelpText(
      'after',
      `
Examples:
  npm run bench -- --quick
  omsgw bench --peers direct,omsgw,squid --workloads keepalive,churn
  omsgw bench --peers omsgw,naive-node,squid,tinyproxy --workloads idle --idle-tunnels 4000
  omsgw bench --quick --cpu-prof     # then open bench/results/cpu-prof/*.cpuprofile in Chrome DevTools`,
    )
    .action(async (opts) => {
      const idleCounts = opts.idleTunnels && parseIdleTunnels(opts.idleTunnels);
      const out = resolve(opts.out ?? join(packageRoot(), 'bench', 'results'));
      mkdirSync(out, { recursive: true });
      const gatewayExecArgv = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(out, 'cpu-prof')}`] : [];
      const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
      const results = await runBench({ quick: opts.quick, peers: opts.peers, workloads: opts.workloads, idleCounts, install: opts.install, gatewayExecArgv, log });
      const stamp = results.date.replace(/[:]/g, '-').replace(/\..*$/, '');
      const name = `${stamp}${results.quick ? '-quick' : ''}`;
      writeFileSync(join(out, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
      writeFileSync(join(out, `${name}.html`), renderBenchHtml(results));
      process.stdout.write(formatText(results) + '\n\n');
      process.stdout.write(`wrote ${join(out, `${name}.json`)} and ${join(out, `${name}.html`)}\n`);
    });
}
