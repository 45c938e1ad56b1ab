import { readFileSync } from 'node:fs';
import { DEFAULT_WORKSPACE } from '../hosts.js';
import { TINYPROXY_NOTES } from '../peers/tinyproxy-notes.js';
import { describeRoute, requiredAllowlist } from '../route.js';
import { startTinyproxy, type TinyproxyProcess } from '../tinyproxy-process.js';
import { committedAfterOptionalUpdate, idsWith, readmeColumn, readmeSummary, seenVerdicts } from './graded.js';
import { run, startLab, suiteOptions, type Lab } from './support.js';

jest.setTimeout(120_000);

const RELAY_AUTH = 'relayuser:relaypass';
const PROXY_AUTH = 'conformance:s3cret-pass';

describe('omsgw conformance against Debian tinyproxy 1.11 (a second gateway we did not write)', () => {
  let lab: Lab;
  let tinyproxy: TinyproxyProcess | undefined;

  afterEach(async () => {
    await tinyproxy?.stop();
    tinyproxy = undefined;
    await lab?.close();
  });

  test('tinyproxy, configured as documented (filter allowlist, ConnectPort 443, BasicAuth, the relay as Upstream), grades exactly as committed in docs/conformance.md and the README', async () => {
    lab = await startLab(RELAY_AUTH);
    tinyproxy = await startTinyproxy({ upstreamPort: lab.upstreams.ports.relayPort, upstreamLogin: RELAY_AUTH, allowlist: requiredAllowlist(DEFAULT_WORKSPACE), basicAuth: PROXY_AUTH, timeoutSeconds: 2 });
    const report = await run(lab, suiteOptions(lab, { host: '127.0.0.1', port: tinyproxy.port }, { proxyAuth: PROXY_AUTH, relayAuth: RELAY_AUTH, tlsPolicy: 'current', headTimeoutMs: 2000, idleTimeoutMs: 2000 }));
    expect(seenVerdicts(report)).toEqual(committedAfterOptionalUpdate('tinyproxy', report, TINYPROXY_NOTES));

    const failed = idsWith(report, 'fail');
    // A suite that passes every proxy is broken: tinyproxy fails the OMS-specific checks...
    expect(failed).toEqual(expect.arrayContaining(['1.3', '9.3', '9.4', '9.5', '9.7', '9.8']));
    // ...and passes what a well-configured CONNECT proxy does (positive controls in the same run).
    expect(idsWith(report, 'pass')).toEqual(expect.arrayContaining(['1.1', '2.1', '3.1', '5.1', '5.2', '5.4', '5.5', '5.6', '7.1', '7.3', '8.1', '8.2', '9.1', '10.2']));
    // Every failure is explained.
    expect(failed.filter((id) => !TINYPROXY_NOTES[id])).toEqual([]);
    // tinyproxy itself refused and chained (its own log), so the passes are its doing.
    const log = readFileSync(tinyproxy.log, 'utf8');
    expect(log).toMatch(/Proxying refused on filtered domain "forbidden\.conformance\.test"/);
    expect(log).toMatch(/Proxying refused on filtered domain "sub\.allowed\.conformance\.test"/);
    expect(log).toMatch(/Refused CONNECT method on port 8443/);
    expect(log).toContain(`Found upstream proxy http 127.0.0.1:${lab.upstreams.ports.relayPort} for allowed.conformance.test`);
    // The tinyproxy lines the CLI prints before a run are the ones this run used (only the filter path differs).
    const printed = describeRoute(lab.upstreams.ports, DEFAULT_WORKSPACE, RELAY_AUTH).split('\n').map((l) => l.trim());
    const block = printed.slice(printed.findIndex((l) => l.startsWith('tinyproxy (')) + 1, printed.findIndex((l) => l.startsWith('any other proxy')));
    expect(block).toEqual(expect.arrayContaining(['ConnectPort 443', 'FilterDefaultDeny Yes', `Upstream http ${RELAY_AUTH}@127.0.0.1:${lab.upstreams.ports.relayPort}`]));
    expect(block.filter((l) => !l.startsWith('Filter "') && !tinyproxy!.config.split('\n').includes(l))).toEqual([]);
    // The README's summary column is this run.
    expect(readmeColumn('Debian tinyproxy')).toEqual(readmeSummary(report.results));
  });
});
