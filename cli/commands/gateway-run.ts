import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { InputError, isInputError } from '../../lib/errors.js';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { formatEvent, type GatewayEvent } from '../../gateway/events/event-log.js';
import { EVENT_LEVELS } from '../../gateway/events/event-ids.js';
import { READY_PREFIX } from '../../gateway/process.js';
import { parseClockFlag, resolveRunOptions } from '../../gateway/cli/run-options.js';
import { CLIENT_ALLOWLIST_FILE, CONFIG_FILE, SERVER_ALLOWLIST_FILE } from '../../gateway/config/load.js';
import { collect, print } from '../management/output.js';

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

export function registerRun(gateway: Command): void {
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
    .option('--event-log-max-size <size>', 'rotate the event-log file before it passes this size, e.g. 16MiB (0 = never; default 16MiB)')
    .option('--event-log-keep <n>', 'rotated event-log files kept as <file>.1 ... <file>.<n> (default 3)')
    .option('--watch', 'apply allowlist/host-map file edits live (otherwise: restart, SIGHUP or POST /api/reload)')
    .option('--no-tls-inspection', 'pure forwarding: do not inspect the TLS handshake')
    .option('--tls-policy <name>', 'TLS versions preset: current (TLSv1..TLSv1.3, the default) | preview-2016 (TLSv1..TLSv1.2)')
    .option('--tls-min-version <v>', 'lowest TLS version let through: TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3 (default TLSv1)')
    .option('--tls-max-version <v>', 'highest TLS version let through: TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3 (default TLSv1.3)')
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
