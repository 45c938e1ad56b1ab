/** The management commands of cli/commands/gateway.ts, run in process (fast) against files and a live gateway. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../index.js';
import { connectRequest, eventually, rawRequest, tempDir } from './support.js';
import { omsgw } from './cli-support.js';

let work: ReturnType<typeof tempDir>;
beforeEach(() => {
  work = tempDir();
});
afterEach(() => work.cleanup());

describe('on files (--dir)', () => {
  test('gateway init writes the 2016 default allowlist without the automation host, and refuses to overwrite', async () => {
    const dir = join(work.dir, 'gw');
    const out = await omsgw('gateway', 'init', '--workspace', 'WS3', '--dir', dir);
    expect(out).toMatch(/allowed hosts: ws3\.oms\.opinsights\.azure\.com, ws3\.ods\.opinsights\.azure\.com, ws3\.blob\.core\.windows\.net/);
    const text = readFileSync(join(dir, 'allowedlist_server.txt'), 'utf8');
    expect(text).not.toMatch(/^[^#].*azure-automation\.net/m);
    expect(text).toMatch(/scus-agentservice-prod-1\.azure-automation\.net\) is NOT|is NOT\n# listed/);
    expect(JSON.parse(readFileSync(join(dir, 'gateway.json'), 'utf8'))).toMatchObject({ listenPort: 8080, adminPort: 8081 });
    await expect(omsgw('gateway', 'init', '--workspace', 'ws3', '--dir', dir)).rejects.toThrow(/already exist.*--force/);
    await expect(omsgw('gateway', 'init', '--workspace', 'not a ws', '--dir', dir, '--force')).rejects.toThrow(/--workspace must be a workspace id/);
  });

  test('allowlist list/add/remove, server and --client', async () => {
    const dir = join(work.dir, 'gw');
    await omsgw('gateway', 'init', '--workspace', 'ws4', '--dir', dir);
    expect(await omsgw('allowlist', 'add', 'SCUS-agentservice-prod-1.azure-automation.net', '--dir', dir)).toMatch(/added scus-agentservice-prod-1\.azure-automation\.net to .*allowedlist_server\.txt \(server allowlist saved; a running gateway applies it on `omsgw gateway reload`, SIGHUP or restart/);
    expect(await omsgw('allowlist', 'add', 'scus-agentservice-prod-1.azure-automation.net', '--dir', dir)).toMatch(/already in/);
    expect(await omsgw('allowlist', 'remove', 'ws4.blob.core.windows.net', '--dir', dir)).toMatch(/removed/);
    expect((await omsgw('allowlist', 'list', '--dir', dir)).trim().split('\n')).toEqual(['ws4.oms.opinsights.azure.com', 'ws4.ods.opinsights.azure.com', 'scus-agentservice-prod-1.azure-automation.net']);
    await expect(omsgw('allowlist', 'add', 'bad host', '--dir', dir)).rejects.toThrow(/not a valid host name/);
    await omsgw('allowlist', 'add', '--client', 'CN=ws4, OU=Linux Monitoring Agent, O=Microsoft', '--dir', dir);
    expect((await omsgw('allowlist', 'list', '--client', '--dir', dir)).trim()).toBe('CN=ws4, OU=Linux Monitoring Agent, O=Microsoft');
    expect(readFileSync(join(dir, 'allowedlist_client.txt'), 'utf8')).toMatch(/^# allowedlist_client\.txt/);
    // Subjects are the same whatever their attribute order, case or spacing, as when certificates are matched.
    expect(await omsgw('allowlist', 'add', '--client', 'o=Microsoft,ou=Linux Monitoring Agent,  cn=WS4', '--dir', dir)).toMatch(/already in/);
    expect(await omsgw('allowlist', 'remove', '--client', 'cn=WS4, OU=linux monitoring agent, O=MICROSOFT', '--dir', dir)).toMatch(/removed/);
    expect((await omsgw('allowlist', 'list', '--client', '--dir', dir)).trim()).toBe('(empty: any client certificate is accepted)');
    expect(await omsgw('allowlist', 'list', '--client', '--json', '--dir', dir)).toBe('[]\n');
    await expect(omsgw('allowlist', 'list', '--dir', dir, '--admin', 'http://127.0.0.1:1')).rejects.toThrow(/either --admin .* or --dir/);
  });

  test('config get/set and relay-proxy get/set, credentials masked on output', async () => {
    const dir = join(work.dir, 'gw');
    await omsgw('gateway', 'init', '--workspace', 'ws5', '--dir', dir);
    await omsgw('config', 'set', 'listenPort', '9090', '--dir', dir);
    expect((await omsgw('config', 'get', 'listenPort', '--dir', dir)).trim()).toBe('9090');
    await expect(omsgw('config', 'set', 'listenPort', 'text', '--dir', dir)).rejects.toThrow(/listenPort must be a port number \(integer\) from 0 to 65535, got "text"/);
    await expect(omsgw('config', 'set', 'listenPrt', '1', '--dir', dir)).rejects.toThrow(/unknown setting "listenPrt"/);
    expect(await omsgw('relay-proxy', 'set', '--address', 'http://127.0.0.1:3128', '--username', 'gw', '--password', 'hunter2', '--dir', dir)).toMatch(/http:\/\/gw:\*\*\*\*@127\.0\.0\.1:3128/);
    expect((await omsgw('relay-proxy', 'get', '--dir', dir)).trim()).toBe('http://127.0.0.1:3128 (user gw, password ****)');
    expect(await omsgw('config', 'get', '--dir', dir)).not.toContain('hunter2');
    expect(JSON.parse(readFileSync(join(dir, 'gateway.json'), 'utf8')).relayProxy).toBe('http://gw:hunter2@127.0.0.1:3128');
    await omsgw('relay-proxy', 'set', '--address', '', '--dir', dir);
    expect((await omsgw('relay-proxy', 'get', '--dir', dir)).trim()).toBe('(none: direct connections)');
  });

  test('events --file filters a JSON-lines event log', async () => {
    const file = join(work.dir, 'events.jsonl');
    writeFileSync(file, [{ seq: 1, id: 101, level: 'info', time: '2016-03-01T09:00:00.000Z', message: 'Service started' }, { seq: 2, id: 105, level: 'warning', time: '2016-03-01T09:00:01.000Z', message: 'Target host (x) is forbidden' }].map((e) => JSON.stringify(e)).join('\n') + '\n');
    expect(await omsgw('events', '--file', file, '--id', '105')).toBe('2016-03-01T09:00:01.000Z  warning  105  Target host (x) is forbidden\n');
    await expect(omsgw('events', '--file', file, '--id', '999')).rejects.toThrow(/--id must be event ids/);
  });

  test('every command has --help with an example', async () => {
    for (const cmd of [['gateway'], ['gateway', 'init'], ['gateway', 'reload'], ['allowlist'], ['allowlist', 'list'], ['allowlist', 'add'], ['allowlist', 'remove'], ['config'], ['config', 'get'], ['config', 'set'], ['relay-proxy'], ['relay-proxy', 'get'], ['relay-proxy', 'set'], ['events'], ['counters']]) {
      const err = (await omsgw(...cmd, '--help').then(
        () => ({}),
        (e: { exitCode?: number; output?: string }) => e,
      )) as { exitCode?: number; output?: string };
      const name = cmd.join(' ');
      // Help exits 0 and shows this command's own usage line and at least one example that runs it.
      expect({ cmd: name, exitCode: err.exitCode }).toEqual({ cmd: name, exitCode: 0 });
      expect(err.output).toMatch(new RegExp(`^Usage: omsgw ${name} `));
      expect(err.output).toMatch(new RegExp(`\nExamples?:\n  omsgw ${name}( |\n)`));
    }
  });

  test('unknown flags and missing arguments are InputErrors (exit 2) naming the command', async () => {
    await expect(omsgw('gateway', '--lisen-port', '1')).rejects.toThrow(/unknown option '--lisen-port' \(Did you mean --listen-port\?\) \(run omsgw gateway --help for usage\)/);
    await expect(omsgw('allowlist', 'add', '--dir', work.dir)).rejects.toThrow(/missing required argument 'value' \(run omsgw allowlist add --help/);
    await expect(omsgw('gateway', 'init')).rejects.toMatchObject({ name: 'InputError', message: 'give --workspace <id> or --from-cloud <lab API URL>' });
  });
});

describe('against a running gateway (--admin)', () => {
  let gw: Gateway;
  let admin: string;
  beforeEach(async () => {
    const allowlistFile = join(work.dir, 'allowedlist_server.txt');
    writeFileSync(allowlistFile, 'a.example.test\n');
    gw = createGateway({ listenPort: 0, adminPort: 0, allowlistFile, adminToken: 'cli-token-1', tlsInspection: false, relayProxy: 'http://u:pw-secret@127.0.0.1:3128' });
    await gw.start();
    admin = `http://127.0.0.1:${gw.adminAddress!.port}`;
  });
  afterEach(() => gw.close());

  test('allowlist, config, relay-proxy, events and counters', async () => {
    await expect(omsgw('allowlist', 'add', 'b.example.test', '--admin', admin)).rejects.toThrow(/401 this change needs Authorization: Bearer/);
    expect(await omsgw('allowlist', 'add', 'b.example.test', '--admin', admin, '--token', 'cli-token-1')).toMatch(/added b\.example\.test: applies to new connections now; saved in/);
    expect((await omsgw('allowlist', 'list', '--admin', admin)).trim().split('\n')).toEqual(['a.example.test', 'b.example.test']);
    expect((await omsgw('relay-proxy', 'get', '--admin', admin)).trim()).toBe('http://127.0.0.1:3128 (user u, password ****)');
    expect(await omsgw('relay-proxy', 'set', '--address', '', '--admin', admin, '--token', 'cli-token-1')).toMatch(/removed: new connections use it now/);
    expect((await omsgw('relay-proxy', 'get', '--admin', admin)).trim()).toBe('(none: direct connections)');
    expect((await omsgw('config', 'get', 'allowedPorts', '--admin', admin)).trim()).toBe('[443]');
    expect(await omsgw('config', 'set', 'allowedPorts', '[443,8443]', '--admin', admin, '--token', 'cli-token-1')).toMatch(/allowedPorts applied/);
    (await rawRequest(gw.proxyAddress.port, connectRequest('evil.example.test:443'))).socket.destroy();
    expect(await omsgw('events', '--admin', admin, '--id', '105')).toMatch(/105  Target host \(evil\.example\.test\) is forbidden/);
    expect(JSON.parse(await omsgw('counters', '--admin', admin, '--json'))).toMatchObject({ rejectionCount: 1 });
    expect(await omsgw('counters', '--admin', admin)).toMatch(/Rejection Count\s+1/);
    expect(await omsgw('gateway', 'reload', '--admin', admin, '--token', 'cli-token-1')).toMatch(/reloaded: no changes/);
  });

  test('events --follow prints past and new events until the gateway closes its stream', async () => {
    (await rawRequest(gw.proxyAddress.port, connectRequest('evil.example.test:443'))).socket.destroy();
    const listeners = gw.events.listenerCount('event');
    const following = omsgw('events', '--follow', '--id', '105', '--admin', admin);
    // the stream subscribes to the event log once connected (and replays the ring first)
    await eventually(() => gw.events.listenerCount('event') > listeners, 'event stream connected');
    (await rawRequest(gw.proxyAddress.port, connectRequest('evil2.example.test:443'))).socket.destroy();
    await gw.close();
    const out = await following;
    expect(out.trim().split('\n')).toHaveLength(2);
    expect(out).toMatch(/105  Target host \(evil\.example\.test\) is forbidden[\s\S]*105  Target host \(evil2\.example\.test\) is forbidden/);
  });

  test('an unreachable gateway is a clear error', async () => {
    await expect(omsgw('counters', '--admin', 'http://127.0.0.1:1')).rejects.toThrow(/cannot reach the gateway management API at http:\/\/127\.0\.0\.1:1/);
    await expect(omsgw('counters', '--admin', 'ftp://x')).rejects.toThrow(/--admin must be the management API URL/);
  });
});
