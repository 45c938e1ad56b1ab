import { readFileSync } from 'node:fs';
import { selectCases } from '../catalogue/index.js';
import { DEFAULT_WORKSPACE } from '../hosts.js';
import { SQUID_AUTH_NOTES, SQUID_NOTES } from '../peers/squid-notes.js';
import { conformanceSquid } from '../route.js';
import { startSquid, type SquidProcess } from '../squid-process.js';
import type { SuiteReport } from '../types.js';
import { committedAfterOptionalUpdate, idsWith, readmeColumn, readmeSummary, seenVerdicts } from './graded.js';
import { run, startLab, suiteOptions, type Lab } from './support.js';

jest.setTimeout(120_000);

const RELAY_AUTH = 'relayuser:relaypass';
const PROXY_AUTH = 'conformance:s3cret-pass';

describe('omsgw conformance against Debian squid (a gateway we did not write)', () => {
  let lab: Lab;
  let squid: SquidProcess | undefined;
  // The README's squid column is both runs: the documented configuration, and section 7 with basic_ncsa_auth.
  let documented: SuiteReport | undefined;
  let withAuth: SuiteReport | undefined;

  afterEach(async () => {
    await squid?.stop();
    squid = undefined;
    await lab?.close();
  });

  test('squid, configured as documented, grades exactly as the table committed in docs/conformance.md; its failures are the OMS-specific cases', async () => {
    // Upstreams first: squid marks a parent that is down when it starts as dead.
    lab = await startLab(RELAY_AUTH);
    squid = await startSquid({ ...conformanceSquid(lab.upstreams.ports, DEFAULT_WORKSPACE, RELAY_AUTH), headTimeoutSeconds: 2, idleTimeoutSeconds: 2 });
    const report = await run(lab, suiteOptions(lab, { host: '127.0.0.1', port: squid.port }, { relayAuth: RELAY_AUTH, tlsPolicy: 'current', headTimeoutMs: 2000, idleTimeoutMs: 2000 }));
    expect(seenVerdicts(report)).toEqual(committedAfterOptionalUpdate('squid', report, SQUID_NOTES));

    const failed = idsWith(report, 'fail');
    // A suite that passes every proxy is broken: squid must fail the OMS-specific checks...
    expect(failed).toEqual(expect.arrayContaining(['1.3', '9.3', '9.4', '9.5', '9.7', '9.8']));
    // ...and pass what any well-configured CONNECT proxy does (positive controls on the same run).
    expect(idsWith(report, 'pass')).toEqual(expect.arrayContaining(['1.1', '2.1', '3.1', '5.1', '5.4', '5.5', '8.1', '8.2', '9.1', '10.2']));
    // Every failure is explained.
    expect(failed.filter((id) => !SQUID_NOTES[id])).toEqual([]);
    // squid really carried the tunnels: its access log shows them.
    expect(readFileSync(squid.accessLog, 'utf8')).toMatch(/TCP_TUNNEL\/200 \d+ CONNECT allowed\.conformance\.test:443/);
    documented = report;
  });

  test('squid with proxy authentication (basic_ncsa_auth, an htpasswd file): section 7 grades exactly as committed', async () => {
    lab = await startLab(RELAY_AUTH);
    squid = await startSquid({ ...conformanceSquid(lab.upstreams.ports, DEFAULT_WORKSPACE, RELAY_AUTH), clientCredentials: PROXY_AUTH, headTimeoutSeconds: 2, idleTimeoutSeconds: 2 });
    expect(squid.config).toMatch(/^auth_param basic program \/usr\/lib\/squid\/basic_ncsa_auth \S+\/passwords$/m);
    const report = await run(lab, suiteOptions(lab, { host: '127.0.0.1', port: squid.port }, { proxyAuth: PROXY_AUTH, relayAuth: RELAY_AUTH, tlsPolicy: 'current', headTimeoutMs: 2000 }), selectCases(['7']));
    expect(seenVerdicts(report)).toEqual(committedAfterOptionalUpdate('squid-auth', report, SQUID_AUTH_NOTES));
    expect(report.results.filter((r) => r.section === 7).map((r) => r.verdict.status)).not.toContain('not-observable');
    // The right credentials opened the tunnel: squid logged the user on it.
    expect(readFileSync(squid.accessLog, 'utf8')).toMatch(/TCP_TUNNEL\/200 \d+ CONNECT allowed\.conformance\.test:443 conformance /);
    expect(idsWith(report, 'fail').filter((id) => !SQUID_AUTH_NOTES[id])).toEqual([]);
    withAuth = report;
  });

  test('the README\'s squid column is these two runs (section 7 from the one with authentication)', () => {
    if (!documented || !withAuth) throw new Error('needs both squid runs above to have passed');
    const combined = [...documented.results.filter((r) => r.section !== 7 && r.id !== '12.7'), ...withAuth.results];
    expect(readmeColumn('Debian squid')).toEqual(readmeSummary(combined));
  });
});
