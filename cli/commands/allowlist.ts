import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { hostPatternProblem, normaliseHost } from '../../gateway/allowlist/host-pattern.js';
import { parseClientSubjectEntry } from '../../gateway/tls/client-allowlist.js';
import { print, printJson } from '../management/output.js';
import { targetFromFlags, withTargetOptions, type ListName } from '../management/target.js';

function validEntry(value: string, list: ListName): string {
  if (list === 'subjects') return parseClientSubjectEntry(value, 'subject');
  const h = normaliseHost(value);
  const problem = hostPatternProblem(h);
  if (problem) throw new InputError(`host ${JSON.stringify(value)}: ${problem}`);
  return h;
}

export function registerAllowlist(program: Command): void {
  const allowlist = program
    .command('allowlist')
    .description('list, add or remove allowed hosts (or --client certificate subjects); mirrors Get/Add/Remove-OMSGatewayAllowedHost')
    .addHelpText('after', `\nExamples:\n  omsgw allowlist list\n  omsgw allowlist add scus-agentservice-prod-1.azure-automation.net --admin http://127.0.0.1:8081\n  omsgw allowlist add --client "CN=0123abcd" --dir ./gw`);

  withTargetOptions(allowlist.command('list').description('show the allowed hosts (or --client subjects)').option('--client', 'client certificate subjects').option('--json', 'JSON output'))
    .addHelpText('after', '\nExample:\n  omsgw allowlist list --dir ./gw')
    .action(async (opts) => {
      const list: ListName = opts.client ? 'subjects' : 'hosts';
      const entries = await targetFromFlags(opts).list(list);
      if (opts.json) printJson(entries);
      else if (entries.length === 0) print(list === 'subjects' ? '(empty: any client certificate is accepted)' : '(empty: no host is allowed)');
      else for (const e of entries) print(e);
    });

  for (const op of ['add', 'remove'] as const) {
    withTargetOptions(
      allowlist
        .command(op)
        .description(op === 'add' ? 'allow a host (or --client subject)' : 'stop allowing a host (or --client subject); exit 2 when it is not in the list')
        .argument('<value>', 'host name, *.suffix, or (with --client) certificate subject')
        .option('--client', 'client certificate subject'),
    )
      .addHelpText('after', `\nExample:\n  omsgw allowlist ${op} scus-agentservice-prod-1.azure-automation.net --dir ./gw`)
      .action(async (value, opts) => {
        const list: ListName = opts.client ? 'subjects' : 'hosts';
        const target = targetFromFlags(opts);
        print((await target.edit(list, op, validEntry(value, list))).message);
      });
  }
}
