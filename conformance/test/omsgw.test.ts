import { CASES, SECTIONS, selectCases } from '../catalogue/index.js';
import { render } from '../reporters/index.js';
import { readmeColumn, readmeSummary } from './graded.js';
import { notPassed, run, startLab, startOmsgw, suiteOptions, type Lab } from './support.js';
import type { GatewayProcess } from '../../gateway/process.js';

jest.setTimeout(120_000);

describe('omsgw conformance against omsgw\'s own gateway', () => {
  let lab: Lab;
  let gw: GatewayProcess | undefined;

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await lab?.close();
  });

  test('relay route, proxy and relay credentials, management API: every case of every section passes (100 %)', async () => {
    lab = await startLab('relayuser:relaypass');
    gw = await startOmsgw(lab, { route: 'relay', relayAuth: 'relayuser:relaypass', proxyAuth: 'agent:secret', tlsPolicy: 'current', timeoutsMs: 1500 });
    const report = await run(lab, suiteOptions(lab, { host: '127.0.0.1', port: gw.proxyPort }, { admin: gw.adminUrl, proxyAuth: 'agent:secret', relayAuth: 'relayuser:relaypass', tlsPolicy: 'current', headTimeoutMs: 1500, idleTimeoutMs: 1500 }));
    expect(notPassed(report)).toEqual([]);
    // Every case ran, plus one events-and-counters check per section.
    expect(report.results.map((r) => r.id).sort()).toEqual([...CASES.map((c) => c.id), ...SECTIONS.filter((s) => s.id < 12).map((s) => `12.${s.id}`)].sort());
    expect(report.totals).toEqual({ pass: CASES.length + 11, fail: 0, notObservable: 0 });
    // The suite's relay really carried the tunnels, with the gateway's relay credentials.
    const auth = `Basic ${Buffer.from('relayuser:relaypass').toString('base64')}`;
    expect(lab.upstreams.relay.requests.length).toBeGreaterThan(20);
    expect(lab.upstreams.relay.requests.every((r) => r.proxyAuthorization === auth)).toBe(true);
    // Forbidden names never reached it.
    expect(lab.upstreams.relay.requests.filter((r) => /forbidden|sub\.allowed|example\.net|127\.0\.0\.1|::1/.test(r.requestLine))).toEqual([]);
    const junit = render('junit', report);
    expect(junit).toContain(`tests="${report.results.length}" failures="0" skipped="0"`);
    expect(render('html', report)).toContain(`${report.results.length} passed, 0 failed, 0 not observable`);
    // The README's omsgw column is this run.
    expect(readmeColumn('omsgw')).toEqual(readmeSummary(report.results));
  });

  test('host-map route and the 2016 TLS policy (TLS 1.0-1.2): allowlist and TLS sections pass; a TLS 1.3-only client is cut (106)', async () => {
    lab = await startLab();
    gw = await startOmsgw(lab, { route: 'host-map', tlsPolicy: 'preview-2016', timeoutsMs: 1500 });
    const report = await run(lab, suiteOptions(lab, { host: '127.0.0.1', port: gw.proxyPort }, { admin: gw.adminUrl, tlsPolicy: 'preview-2016', headTimeoutMs: 1500 }), selectCases(['5', '9', '8']));
    const failed = report.results.filter((r) => r.verdict.status === 'fail');
    expect(failed.map((r) => r.id)).toEqual([]);
    // Without a relay in the route, section 8 cannot be observed, and says why.
    expect(report.results.filter((r) => r.section === 8).map((r) => r.verdict.status)).toEqual(['not-observable', 'not-observable', 'not-observable']);
    expect(report.results.find((r) => r.id === '9.2')?.verdict.status).toBe('pass');
    const check = report.results.find((r) => r.id === '12.9');
    expect(check?.verdict.status === 'pass' && check.verdict.seen).toMatch(/106×2/);
  });

  test('the same TLS 1.3-only case fails when the suite assumes the current policy but the gateway runs the 2016 one', async () => {
    lab = await startLab();
    gw = await startOmsgw(lab, { route: 'host-map', tlsPolicy: 'preview-2016', timeoutsMs: 1500 });
    const report = await run(lab, suiteOptions(lab, { host: '127.0.0.1', port: gw.proxyPort }, { tlsPolicy: 'current', headTimeoutMs: 1500 }), selectCases(['9.2']));
    const r = report.results.find((x) => x.id === '9.2');
    expect(r?.verdict.status).toBe('fail');
    expect(r?.verdict.status === 'fail' && r.verdict.seen).toMatch(/handshake/);
  });
});
