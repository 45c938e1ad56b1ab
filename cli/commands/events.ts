import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { formatEvent, type GatewayEvent } from '../../gateway/events/event-log.js';
import { EVENT_LEVELS } from '../../gateway/events/event-ids.js';
import { adminRequest, adminTarget, DEFAULT_ADMIN_URL } from '../../gateway/cli/admin-client.js';
import { readEventFile } from '../management/event-file.js';
import { followEventStream } from '../management/event-stream.js';
import { print } from '../management/output.js';
import { withTimeoutOption } from '../management/target.js';

function parseIdsFlag(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!(id in EVENT_LEVELS)) throw new InputError(`--id must be event ids such as 103,105 (known: ${Object.keys(EVENT_LEVELS).join(', ')}), got ${JSON.stringify(id)}`);
  return ids.map(Number);
}

/** Resolves on Ctrl-C / SIGTERM: how `events --follow --file` ends. */
function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

export function registerEvents(program: Command, stopFollowing: () => Promise<void> = untilInterrupted): void {
  withTimeoutOption(
    program
      .command('events')
      .description("show a running gateway's event log (the \"OMS Gateway Log\")")
      .option('--admin <url>', `management API (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
      .option('--id <ids>', 'only these event ids, comma-separated (e.g. 103,105,107)')
      .option('--since <seq>', 'only events after this seq number')
      .option('-f, --follow', 'keep printing new events as they happen (Ctrl-C to stop); also with --file')
      .option('--json', 'JSON lines instead of text')
      .option('--file <events.jsonl>', 'read an --event-log file instead of asking a gateway'),
  )
    .addHelpText('after', '\nExamples:\n  omsgw events --id 103,105\n  omsgw events --follow --admin http://127.0.0.1:8081\n  omsgw events --file ./gateway-events.jsonl --id 105')
    .action(async (opts) => {
      const ids = parseIdsFlag(opts.id);
      if (opts.since !== undefined && !/^[0-9]+$/.test(opts.since)) throw new InputError(`--since must be an event seq number, got ${JSON.stringify(opts.since)}`);
      if (opts.file !== undefined && opts.admin !== undefined) throw new InputError('give either --admin <url> (a running gateway) or --file <events.jsonl>, not both');
      const show = (e: GatewayEvent): void => print(opts.json ? JSON.stringify(e) : formatEvent(e));
      if (opts.file !== undefined) {
        const wanted = (e: GatewayEvent) => (!ids || ids.includes(e.id)) && (opts.since === undefined || e.seq > Number(opts.since));
        await readEventFile(opts.file, (e) => wanted(e) && show(e), opts.follow ? { stop: stopFollowing() } : undefined);
        return;
      }
      const api = adminTarget(opts);
      const query = new URLSearchParams();
      if (ids) query.set('id', ids.join(','));
      if (opts.since !== undefined) query.set('since', opts.since);
      if (!opts.follow) {
        const r = await adminRequest<{ events: GatewayEvent[] }>(api, 'GET', `/api/events?${query}`);
        r.events.forEach(show);
        return;
      }
      if (opts.since === undefined) query.set('since', '0');
      await followEventStream(api, query, show);
    });
}
