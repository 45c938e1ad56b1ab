import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';

const EXAMPLES = `
Exit codes: 0 every observable case passed, 1 a case failed, 2 invalid input (flags, unknown case ids,
an unreachable gateway, a route that does not reach the suite's upstreams, an --admin that is not omsgw's).

Examples:
  omsgw conformance --gateway 127.0.0.1:8080 --admin http://127.0.0.1:8081
  omsgw conformance --gateway 127.0.0.1:3128 --reporter html --out reports
  omsgw conformance --print-route            # what to configure in the gateway first
  omsgw conformance --list                   # the numbered specification`;

export function registerConformanceCommands(program: Command): void {
  program
    .command('conformance')
    .description('Grade any CONNECT proxy against the numbered OMS gateway specification (see docs/conformance.md)')
    .option('--gateway <host:port>', 'the gateway under test (loopback)')
    .option('--admin <url>', 'its omsgw management API: also checks events and counters after each section')
    .option('--reporter <name>', 'pretty, json, junit or html', 'pretty')
    .option('--out <dir>', 'write the report to a file in this folder instead of stdout')
    .option('--cases <ids>', 'comma-separated case ids or section numbers, e.g. 5,9.4')
    .option('--proxy-auth <user:pass>', 'the gateway requires these client credentials (section 7)')
    .option('--relay-auth <user:pass>', 'the suite\'s relay requires these credentials from the gateway (section 8)')
    .option('--tls-policy <name>', 'TLS versions the gateway accepts: current (1.0–1.3) or preview-2016 (1.0–1.2)', 'current')
    .option('--head-timeout-ms <ms>', 'the gateway\'s time limit for a CONNECT head', '10000')
    .option('--idle-timeout-ms <ms>', 'the gateway\'s idle-tunnel timeout (case 10.4 needs it)')
    .option('--cloud-port <port>', 'fake cloud port on 127.0.0.1', '9555')
    .option('--echo-port <port>', 'echo upstream port on 127.0.0.1', '9556')
    .option('--relay-port <port>', 'relay (CONNECT) port on 127.0.0.1', '9557')
    .option('--workspace <guid>', 'workspace the fake cloud serves', '00000000-0000-4000-8000-00000000c0f0')
    .option('--state-dir <dir>', 'folder for the fake cloud\'s lab CA (default: a new temp folder)')
    .option('--list', 'print the case catalogue and exit')
    .option('--print-route', 'print the route the gateway needs and exit')
    .addHelpText('after', EXAMPLES)
    .action(async (flags) => {
      const [{ parseConformanceFlags }, { CASES, selectCases, SECTIONS }, reporters, { describeRoute }] = await Promise.all([
        import('../../conformance/options.js'),
        import('../../conformance/catalogue/index.js'),
        import('../../conformance/reporters/index.js'),
        import('../../conformance/route.js'),
      ]);
      const o = parseConformanceFlags(flags);
      if (flags.list) {
        for (const s of SECTIONS) {
          process.stdout.write(`${s.id}. ${s.title}\n`);
          for (const c of CASES.filter((x) => x.section === s.id)) process.stdout.write(`  ${c.id.padEnd(5)} ${c.behaviour}\n`);
          if (s.id === 12) process.stdout.write('  12.<n> events and counters after section <n> (with --admin)\n');
        }
        return;
      }
      if (flags.printRoute) {
        process.stdout.write(describeRoute(o, o.workspaceId, o.relayAuth));
        return;
      }
      const selected = selectCases(o.cases);
      if (!o.gateway) throw new InputError('--gateway <host:port> is required (the proxy to test), e.g. --gateway 127.0.0.1:8080');
      if (o.out !== undefined) {
        if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw new InputError(`--out must be a folder, but ${o.out} is a file`);
        mkdirSync(o.out, { recursive: true });
      }
      const [{ startUpstreams }, { runSuite }, { prettyCase, summaryLine }] = await Promise.all([
        import('../../conformance/upstream-set.js'),
        import('../../conformance/runner.js'),
        import('../../conformance/reporters/pretty.js'),
      ]);
      const upstreams = await startUpstreams(o);
      try {
        process.stderr.write(describeRoute(upstreams.ports, o.workspaceId, o.relayAuth));
        const stream = o.reporter === 'pretty' && !o.out;
        const colour = stream && !!process.stdout.isTTY && !process.env.NO_COLOR;
        const report = await runSuite({ ...o, ...upstreams.ports, gateway: o.gateway }, upstreams, {
          onSection: stream ? (title) => process.stdout.write(`\n${title}\n`) : undefined,
          onResult: stream ? (r) => r.section !== 12 && process.stdout.write(`${prettyCase(r, colour)}\n`) : undefined,
        }, selected);
        if (stream) {
          const checks = report.results.filter((r) => r.section === 12);
          if (checks.length) process.stdout.write(`\n12. ${SECTIONS[11].title}\n${checks.map((r) => prettyCase(r, colour)).join('\n')}\n`);
          process.stdout.write(`\n${summaryLine(report)}\n`);
        } else if (o.out) {
          const file = join(o.out, reporters.REPORT_FILE[o.reporter]);
          writeFileSync(file, reporters.render(o.reporter, report));
          process.stdout.write(`${summaryLine(report)}\nreport: ${file}\n`);
        } else process.stdout.write(reporters.render(o.reporter, report));
        process.exitCode = report.totals.fail ? 1 : 0;
      } finally {
        await upstreams.close();
      }
    });
}
