import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { InputError, isInputError } from '../../lib/errors.js';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { formatEvent, type GatewayEvent } from '../../gateway/events/event-log.js';
import { EVENT_LEVELS } from '../../gateway/events/event-ids.js';
import { READY_PREFIX } from '../../gateway/process.js';
import { initGatewayDir } from '../../gateway/init.js';
import { parseClockFlag, resolveRunOptions } from '../../gateway/cli/run-options.js';
import { adminRequest, adminTarget, DEFAULT_ADMIN_URL, type AdminTarget } from '../../gateway/cli/admin-client.js';
import { addEntryToText, loadClientAllowlist, loadServerAllowlist, readTextFile, removeEntryFromText, sameHost, sameSubject } from '../../gateway/allowlist/allowlist-file.js';
import { hostPatternProblem, normaliseHost } from '../../gateway/allowlist/host-pattern.js';
import { parseClientSubjectEntry } from '../../gateway/tls/client-allowlist.js';
import { CLIENT_ALLOWLIST_FILE, CONFIG_FILE, loadConfigFile, SERVER_ALLOWLIST_FILE } from '../../gateway/config/load.js';
import { FIELDS, CONFIG_KEYS } from '../../gateway/config/schema.js';
import { updateJsonFile, writeFileAtomic } from '../../gateway/config/persist.js';
import { formatRelayProxy, maskRelayUrl, parseRelayProxy } from '../../gateway/routes/relay.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function print(line: string): void {
  process.stdout.write(line + '\n');
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** A bad configuration is reported like the real gateway did: event 401, then exit code 2. */
function reportConfigError(err: InputError, eventLog: string | undefined): never {
  const event: GatewayEvent = { seq: 1, id: 401, level: EVENT_LEVELS[401], time: new Date().toISOString(), message: `Bad configuration: ${err.message}` };
  print(formatEvent(event));
  if (eventLog) {
    try {
      appendFileSync(eventLog, JSON.stringify(event) + '\n');
    } catch {
      // the message on stderr is what matters; the file may be the problem itself
    }
  }
  throw err;
}

async function runGateway(flags: Parameters<typeof resolveRunOptions>[0] & { quiet?: boolean; json?: boolean }): Promise<void> {
  let gw: Gateway;
  let manual = false;
  try {
    const { clock, manual: isManual } = parseClockFlag(flags.clock);
    manual = isManual;
    gw = createGateway({ ...resolveRunOptions(flags), clock });
  } catch (err) {
    if (isInputError(err)) reportConfigError(err, flags.eventLog ? resolve(flags.eventLog) : undefined);
    throw err;
  }
  // A harness that stops reading our stdout must not take the proxy down with EPIPE: stop printing instead.
  let stdoutOpen = true;
  process.stdout.on('error', () => {
    stdoutOpen = false;
  });
  if (!flags.quiet) gw.events.on('event', (e) => stdoutOpen && print(flags.json ? JSON.stringify(e) : formatEvent(e)));
  try {
    await gw.start();
  } catch (err) {
    if (isInputError(err)) reportConfigError(err, gw.config.eventLog);
    throw err;
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    void gw.close().then(
      () => {
        process.exitCode = 0;
        // Everything is closed; this only guards against a handle someone else left open.
        setTimeout(() => process.exit(0), 2000).unref();
      },
      (err: Error) => {
        process.stderr.write(`omsgw: error while stopping on ${signal}: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    // a failure is logged as 401 by reload(); the previous settings stay
    gw.reload('SIGHUP').catch(() => undefined);
  });
  // Only now, with the signal handlers in place, may a harness start sending signals.
  const proxy = gw.proxyAddress;
  const admin = gw.adminAddress ?? null;
  print(READY_PREFIX + JSON.stringify({ proxy, admin, pid: process.pid, manualClock: manual }));
}

function registerRun(gateway: Command): void {
  gateway
    .option('--config <file>', 'gateway.json with settings (flags win over it)')
    .option('--dir <folder>', `folder holding ${SERVER_ALLOWLIST_FILE}, ${CLIENT_ALLOWLIST_FILE} and ${CONFIG_FILE} (see gateway init)`)
    .option('--listen-host <ip>', 'address the proxy listens on (default 127.0.0.1)')
    .option('--listen-port <port>', 'proxy port; 0 = any free port (default 8080)')
    .option('--admin-host <ip>', 'address of the management API (default 127.0.0.1; off loopback needs --admin-token)')
    .option('--admin-port <port>', 'management API port; 0 = any free port (default 8081)')
    .option('--no-admin', 'run without the management API')
    .option('--admin-token <token>', 'bearer token required for every change through the management API')
    .option('--allowlist <file>', `server allowlist (${SERVER_ALLOWLIST_FILE}): one host per line, "*.suffix" allowed`)
    .option('--allow-host <host>', 'allow this host in addition to the allowlist file (repeatable)', collect)
    .option('--client-allowlist <file>', `client certificate subjects (${CLIENT_ALLOWLIST_FILE})`)
    .option('--host-map <host=ip:port>', 'route a host (or *.suffix) to a local address instead of DNS (repeatable)', collect)
    .option('--host-map-file <file>', 'host map entries, one host=ip:port per line')
    .option('--relay-proxy <url>', 'chain through this proxy: http://[user:pass@]host:port ("" = direct)')
    .option('--proxy-auth <user:pass>', 'require these credentials from clients (Proxy-Authorization: Basic)')
    .option('--allow-private-upstream', 'let unmapped hosts resolve to loopback/private addresses')
    .option('--event-log <file>', 'append every event to this file as JSON lines')
    .option('--watch', 'apply allowlist/host-map file edits live (otherwise: restart, SIGHUP or POST /api/reload)')
    .option('--no-tls-inspection', 'pure forwarding: do not inspect the TLS handshake')
    .option('--clock <mode>', 'system | manual | manual=<ISO time> (test harness: time moves only via POST /api/clock/advance)')
    .option('--max-connections <n>', 'concurrent client connections; beyond it clients get 503 (default 10000)')
    .option('--idle-timeout-ms <ms>', 'close a tunnel with no traffic for this long (default 300000)')
    .option('--header-timeout-ms <ms>', 'time a client has to send its CONNECT request (default 10000)')
    .option('--connect-timeout-ms <ms>', 'upstream connect timeout (default 10000)')
    .option('--drain-timeout-ms <ms>', 'on shutdown, wait this long for tunnels to finish (default 5000)')
    .option('--reset-time <HH:MM>', 'UTC time of the daily Connected Client reset (default 00:00)')
    .option('--debug-events', 'also log event 200 for each tunnel opened and closed')
    .option('--json', 'print events on stdout as JSON lines instead of text')
    .option('-q, --quiet', 'do not print events on stdout (only the readiness line)')
    .addHelpText(
      'after',
      `
Examples:
  omsgw gateway init --workspace 0123abcd --dir ./gw && omsgw gateway --dir ./gw
  omsgw gateway --listen-port 8080 --admin-port 8081 --allowlist ./allowedlist_server.txt \\
      --host-map '*.opinsights.azure.com=127.0.0.1:9443' --event-log ./gateway-events.jsonl

When ready it prints one line: ${READY_PREFIX}{"proxy":{...},"admin":{...},"pid":N}
Signals: SIGTERM/SIGINT stop (event 102, drain, exit 0); SIGHUP re-reads the allowlist files.`,
    )
    .action(async (opts) => runGateway(opts));
}

function registerInit(gateway: Command): void {
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

function registerReload(gateway: Command): void {
  gateway
    .command('reload')
    .description('re-read the allowlist and host-map files of a running gateway (POST /api/reload)')
    .option('--admin <url>', `management API URL (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
    .option('--token <token>', 'admin token (or $OMSGW_ADMIN_TOKEN)')
    .addHelpText('after', `\nExample:\n  omsgw gateway reload --admin http://127.0.0.1:8081`)
    .action(async (opts) => {
      const r = await adminRequest<{ summary: string }>(adminTarget(opts), 'POST', '/api/reload');
      print(`reloaded: ${r.summary}`);
    });
}

// ---- management commands: against a running gateway (--admin URL) or on files (--dir D) ----

type Target = { kind: 'api'; api: AdminTarget } | { kind: 'dir'; dir: string };

type TargetFlags = { admin?: string; token?: string; dir?: string };

function target(flags: object): Target {
  const opts = flags as TargetFlags;
  if (opts.dir !== undefined && opts.admin !== undefined) throw new InputError('give either --admin <url> (a running gateway) or --dir <folder> (its files), not both');
  if (opts.dir !== undefined) {
    const dir = resolve(opts.dir);
    if (!existsSync(dir)) throw new InputError(`--dir ${opts.dir} does not exist`);
    return { kind: 'dir', dir };
  }
  return { kind: 'api', api: adminTarget(opts) };
}

function withTargetOptions<T extends Command<any, any, any>>(cmd: T): T {
  return cmd
    .option('--admin <url>', `management API of a running gateway (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
    .option('--token <token>', 'admin token (or $OMSGW_ADMIN_TOKEN)')
    .option('--dir <folder>', 'edit the files in this gateway folder instead (takes effect on restart or reload)') as T;
}

const RESTART_NOTE = 'saved; a running gateway applies it on restart, SIGHUP, `omsgw gateway reload` or with --watch';

function registerAllowlist(program: Command): void {
  const allowlist = program
    .command('allowlist')
    .description('list, add or remove allowed hosts (or --client certificate subjects); mirrors Get/Add/Remove-OMSGatewayAllowedHost')
    .addHelpText('after', `\nExamples:\n  omsgw allowlist list\n  omsgw allowlist add scus-agentservice-prod-1.azure-automation.net --admin http://127.0.0.1:8081\n  omsgw allowlist add --client "CN=0123abcd" --dir ./gw`);

  const file = (dir: string, client: boolean) => join(dir, client ? CLIENT_ALLOWLIST_FILE : SERVER_ALLOWLIST_FILE);
  const apiPath = (client: boolean) => (client ? '/api/allowlist/client-certificates' : '/api/allowlist/hosts');
  const validate = (value: string, client: boolean): string => {
    if (client) return parseClientSubjectEntry(value, 'subject');
    const h = normaliseHost(value);
    const problem = hostPatternProblem(h);
    if (problem) throw new InputError(`host ${JSON.stringify(value)}: ${problem}`);
    return h;
  };

  withTargetOptions(allowlist.command('list').description('show the allowed hosts (or --client subjects)').option('--client', 'client certificate subjects').option('--json', 'JSON output'))
    .addHelpText('after', '\nExample:\n  omsgw allowlist list --dir ./gw')
    .action(async (opts) => {
      const t = target(opts);
      const client = !!opts.client;
      let entries: readonly string[];
      if (t.kind === 'dir') entries = client ? (existsSync(file(t.dir, true)) ? loadClientAllowlist(file(t.dir, true)) : []) : loadServerAllowlist(file(t.dir, false));
      else {
        const r = await adminRequest<{ hosts?: string[]; subjects?: string[] }>(t.api, 'GET', apiPath(client));
        entries = (client ? r.subjects : r.hosts) ?? [];
      }
      if (opts.json) printJson(entries);
      else for (const e of entries) print(e);
    });

  for (const op of ['add', 'remove'] as const) {
    withTargetOptions(
      allowlist
        .command(op)
        .description(op === 'add' ? 'allow a host (or --client subject)' : 'stop allowing a host (or --client subject)')
        .argument('<value>', 'host name, *.suffix, or (with --client) certificate subject')
        .option('--client', 'client certificate subject'),
    )
      .addHelpText('after', `\nExample:\n  omsgw allowlist ${op} scus-agentservice-prod-1.azure-automation.net --dir ./gw`)
      .action(async (value, opts) => {
        const t = target(opts);
        const client = !!opts.client;
        const v = validate(value, client);
        if (t.kind === 'dir') {
          const f = file(t.dir, client);
          const text = existsSync(f) || !client ? readTextFile(f, client ? 'client allowlist' : 'server allowlist') : '';
          const same = client ? sameSubject : sameHost;
          const r = op === 'add' ? addEntryToText(text, v, same) : removeEntryFromText(text, v, same);
          if (!r.changed) {
            print(op === 'add' ? `${v} is already in ${f}` : `${v} is not in ${f}`);
            return;
          }
          writeFileAtomic(f, r.text);
          print(`${op === 'add' ? 'added' : 'removed'} ${v} ${op === 'add' ? 'to' : 'from'} ${f} (${RESTART_NOTE})`);
        } else {
          const r = await adminRequest<{ changed: string[]; persisted: boolean; file?: string }>(t.api, op === 'add' ? 'POST' : 'DELETE', apiPath(client), client ? { subject: v } : { host: v });
          if (r.changed.length === 0) print(op === 'add' ? `${v} was already allowed` : `${v} was not in the list`);
          else print(`${op === 'add' ? 'added' : 'removed'} ${v}: applies to new connections now${r.persisted ? `; saved in ${r.file}` : ' (not saved: the gateway has no allowlist file)'}`);
        }
      });
  }
}

function parseConfigValue(key: string, text: string): unknown {
  if (!(CONFIG_KEYS as string[]).includes(key)) throw new InputError(`unknown setting "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // a bare string such as a host or URL
  }
  if (key === 'relayProxy' && typeof value !== 'string') value = text;
  return (FIELDS as Record<string, (v: unknown, w: string) => unknown>)[key](value, key);
}

function registerConfig(program: Command): void {
  const config = program.command('config').description('show or change gateway settings; mirrors Get/Set-OMSGatewayConfig').addHelpText('after', '\nExamples:\n  omsgw config get\n  omsgw config set listenPort 8080 --dir ./gw');
  withTargetOptions(config.command('get').description('show the settings (credentials masked)').argument('[key]', 'one setting only'))
    .addHelpText('after', '\nExample:\n  omsgw config get listenPort --admin http://127.0.0.1:8081')
    .action(async (key, opts) => {
      const t = target(opts);
      let settings: Record<string, unknown>;
      if (t.kind === 'dir') {
        const f = join(t.dir, CONFIG_FILE);
        settings = existsSync(f) ? (loadConfigFile(f) as Record<string, unknown>) : {};
        if (typeof settings.relayProxy === 'string') settings.relayProxy = maskRelayUrl(settings.relayProxy);
        if (typeof settings.proxyAuth === 'string') settings.proxyAuth = settings.proxyAuth.replace(/:.*$/, ':****');
        if (settings.adminToken) settings.adminToken = '****';
      } else settings = (await adminRequest<{ config: Record<string, unknown> }>(t.api, 'GET', '/api/config')).config;
      if (key === undefined) return printJson(settings);
      if (!(CONFIG_KEYS as string[]).includes(key)) throw new InputError(`unknown setting "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
      print(settings[key] === undefined ? '(not set)' : typeof settings[key] === 'string' ? (settings[key] as string) : JSON.stringify(settings[key]));
    });
  withTargetOptions(config.command('set').description('change one setting').argument('<key>', 'setting name, e.g. listenPort').argument('<value>', 'new value (JSON or a plain string)'))
    .addHelpText('after', '\nExample:\n  omsgw config set listenPort 8080 --dir ./gw')
    .action(async (key, value, opts) => {
      const t = target(opts);
      const v = parseConfigValue(key, value);
      if (t.kind === 'dir') {
        updateJsonFile(join(t.dir, CONFIG_FILE), { [key]: v });
        print(`${key} ${RESTART_NOTE.replace('saved', `saved in ${join(t.dir, CONFIG_FILE)}`)}`);
      } else {
        const r = await adminRequest<{ applied: string[]; restartRequired: string[] }>(t.api, 'PUT', '/api/config', { [key]: v });
        print(r.applied.includes(key) ? `${key} applied (new connections use it now)` : `${key} saved; takes effect when the gateway restarts`);
      }
    });
}

function registerRelayProxy(program: Command): void {
  const relay = program.command('relay-proxy').description('show or set the upstream (relay) proxy; mirrors Get/Set-OMSGatewayRelayProxy').addHelpText('after', '\nExamples:\n  omsgw relay-proxy get\n  omsgw relay-proxy set --address http://proxy.lab:3128 --username u --password p --dir ./gw\n  omsgw relay-proxy set --address ""   (direct connections)');
  withTargetOptions(relay.command('get').description('show the relay proxy (password masked)'))
    .addHelpText('after', '\nExample:\n  omsgw relay-proxy get --admin http://127.0.0.1:8081')
    .action(async (opts) => {
      const t = target(opts);
      if (t.kind === 'dir') {
        const f = join(t.dir, CONFIG_FILE);
        const url = existsSync(f) ? loadConfigFile(f).relayProxy : undefined;
        print(url ? maskRelayUrl(url) : '(none: direct connections)');
      } else {
        const r = await adminRequest<{ relayProxy: { address: string; username: string | null } | null }>(t.api, 'GET', '/api/config');
        print(r.relayProxy ? `${r.relayProxy.address}${r.relayProxy.username ? ` (user ${r.relayProxy.username}, password ****)` : ''}` : '(none: direct connections)');
      }
    });
  withTargetOptions(
    relay
      .command('set')
      .description('set the relay proxy ("" for none)')
      .requiredOption('--address <url>', 'http://host:port, or "" for direct connections')
      .option('--username <user>', 'user for Proxy-Authorization: Basic')
      .option('--password <password>', 'password for Proxy-Authorization: Basic'),
  )
    .addHelpText('after', '\nExample:\n  omsgw relay-proxy set --address http://127.0.0.1:3128 --username gw --password secret --admin http://127.0.0.1:8081')
    .action(async (opts) => {
      const t = target(opts);
      let url: string | null = null;
      if (opts.address.trim() !== '') {
        const parsed = parseRelayProxy(opts.address, '--address');
        if (!parsed) throw new InputError('--address must be http://host:port');
        if (opts.username !== undefined) parsed.username = opts.username;
        if (opts.password !== undefined) parsed.password = opts.password;
        url = formatRelayProxy(parsed, false);
      } else if (opts.username !== undefined || opts.password !== undefined) throw new InputError('--username/--password need an --address');
      if (t.kind === 'dir') {
        updateJsonFile(join(t.dir, CONFIG_FILE), { relayProxy: url ?? undefined });
        print(`relay proxy ${url ? maskRelayUrl(url) : 'removed'}: ${RESTART_NOTE.replace('saved', `saved in ${join(t.dir, CONFIG_FILE)}`)}`);
      } else {
        await adminRequest(t.api, 'PUT', '/api/config', { relayProxy: url });
        print(`relay proxy ${url ? maskRelayUrl(url) : 'removed'}: new connections use it now`);
      }
    });
}

function parseIdsFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!(id in EVENT_LEVELS)) throw new InputError(`--id must be event ids such as 103,105 (known: ${Object.keys(EVENT_LEVELS).join(', ')}), got ${JSON.stringify(id)}`);
  return ids.join(',');
}

function registerEvents(program: Command): void {
  program
    .command('events')
    .description("show a running gateway's event log (the \"OMS Gateway Log\")")
    .option('--admin <url>', `management API (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
    .option('--id <ids>', 'only these event ids, comma-separated (e.g. 103,105,107)')
    .option('--since <seq>', 'only events after this seq number')
    .option('-f, --follow', 'keep printing new events as they happen (Ctrl-C to stop)')
    .option('--json', 'JSON lines instead of text')
    .option('--file <events.jsonl>', 'read an --event-log file instead of asking a gateway')
    .addHelpText('after', '\nExamples:\n  omsgw events --id 103,105\n  omsgw events --follow --admin http://127.0.0.1:8081\n  omsgw events --file ./gateway-events.jsonl --id 105')
    .action(async (opts) => {
      const ids = parseIdsFlag(opts.id);
      if (opts.since !== undefined && !/^[0-9]+$/.test(opts.since)) throw new InputError(`--since must be an event seq number, got ${JSON.stringify(opts.since)}`);
      const show = (e: GatewayEvent): void => print(opts.json ? JSON.stringify(e) : formatEvent(e));
      if (opts.file) {
        const wanted = ids ? new Set(ids.split(',').map(Number)) : undefined;
        const text = readFileSync(opts.file, 'utf8');
        text.split('\n').forEach((line, i) => {
          if (!line.trim()) return;
          let e: GatewayEvent;
          try {
            e = JSON.parse(line) as GatewayEvent;
          } catch {
            throw new InputError(`${opts.file} line ${i + 1} is not a JSON event`);
          }
          if ((!wanted || wanted.has(e.id)) && (opts.since === undefined || e.seq > Number(opts.since))) show(e);
        });
        return;
      }
      const api = adminTarget(opts);
      const query = new URLSearchParams();
      if (ids) query.set('id', ids);
      if (opts.since !== undefined) query.set('since', opts.since);
      if (!opts.follow) {
        const r = await adminRequest<{ events: GatewayEvent[] }>(api, 'GET', `/api/events?${query}`);
        r.events.forEach(show);
        return;
      }
      if (opts.since === undefined) query.set('since', '0');
      await followStream(`${api.url}/api/events/stream?${query}`, show);
    });
}

async function followStream(url: string, onEvent: (e: GatewayEvent) => void): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  } catch (err) {
    throw new InputError(`cannot reach ${url}: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new InputError(`${url}: ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) onEvent(JSON.parse(data) as GatewayEvent);
    }
  }
}

function registerCounters(program: Command): void {
  program
    .command('counters')
    .description('show the gateway performance counters ("OMS Gateway" object)')
    .option('--admin <url>', `management API (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
    .option('-w, --watch', 'refresh until Ctrl-C')
    .option('--interval-ms <ms>', 'refresh interval with --watch', '2000')
    .option('--json', 'JSON output')
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

export function registerGatewayCommands(program: Command): void {
  const gateway = program
    .command('gateway')
    .description('run the reference OMS gateway (CONNECT-only forward proxy), or set up its folder');
  registerRun(gateway);
  registerInit(gateway);
  registerReload(gateway);
  registerAllowlist(program);
  registerConfig(program);
  registerRelayProxy(program);
  registerEvents(program);
  registerCounters(program);
}
