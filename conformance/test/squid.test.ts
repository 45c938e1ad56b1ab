import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { DEFAULT_WORKSPACE } from '../hosts.js';
import { SQUID_NOTES } from '../peers/squid-notes.js';
import { gradedTable } from '../reporters/markdown.js';
import { conformanceSquid } from '../route.js';
import { startSquid, type SquidProcess } from '../squid-process.js';
import { run, startLab, suiteOptions, type Lab } from './support.js';

jest.setTimeout(120_000);

const DOC = join(packageRoot(), 'docs', 'conformance.md');
const START = '<!-- squid-graded-table:start -->';
const END = '<!-- squid-graded-table:end -->';

/** id → verdict as committed in docs/conformance.md. */
function committedVerdicts(): Record<string, string> {
  const doc = readFileSync(DOC, 'utf8');
  const block = doc.slice(doc.indexOf(START), doc.indexOf(END));
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/^\| (\d+\.\d+) \|.*?\| (pass|\*\*fail\*\*|not observable) \|/gm)) out[m[1]] = m[2].replace(/\*/g, '');
  return out;
}

describe('omsgw conformance against Debian squid (a gateway we did not write)', () => {
  let lab: Lab;
  let squid: SquidProcess | undefined;

  afterEach(async () => {
    await squid?.stop();
    squid = undefined;
    await lab?.close();
  });

  test('squid, configured as documented, grades exactly as the table committed in docs/conformance.md; its failures are the OMS-specific cases', async () => {
    // Upstreams first: squid marks a parent that is down when it starts as dead.
    lab = await startLab('relayuser:relaypass');
    squid = await startSquid({ ...conformanceSquid(lab.upstreams.ports, DEFAULT_WORKSPACE, 'relayuser:relaypass'), headTimeoutSeconds: 2, idleTimeoutSeconds: 2 });
    const report = await run(lab, suiteOptions(lab, { host: '127.0.0.1', port: squid.port }, { relayAuth: 'relayuser:relaypass', tlsPolicy: 'current', headTimeoutMs: 2000, idleTimeoutMs: 2000 }));
    const table = gradedTable(report, SQUID_NOTES);
    if (process.env.UPDATE_CONFORMANCE_DOCS) {
      const doc = readFileSync(DOC, 'utf8');
      writeFileSync(DOC, `${doc.slice(0, doc.indexOf(START) + START.length)}\n${table}\n${doc.slice(doc.indexOf(END))}`);
    }
    const seen: Record<string, string> = {};
    for (const r of report.results) seen[r.id] = r.verdict.status === 'not-observable' ? 'not observable' : r.verdict.status;
    expect(seen).toEqual(committedVerdicts());

    const failed = report.results.filter((r) => r.verdict.status === 'fail').map((r) => r.id);
    // A suite that passes every proxy is broken: squid must fail the OMS-specific checks...
    expect(failed).toEqual(expect.arrayContaining(['1.3', '9.3', '9.4', '9.5', '9.7', '9.8']));
    // ...and pass what any well-configured CONNECT proxy does (positive controls on the same run).
    const passed = report.results.filter((r) => r.verdict.status === 'pass').map((r) => r.id);
    expect(passed).toEqual(expect.arrayContaining(['1.1', '2.1', '3.1', '5.1', '5.4', '5.5', '8.1', '8.2', '9.1', '10.2']));
    // Every failure is explained.
    expect(failed.filter((id) => !SQUID_NOTES[id])).toEqual([]);
    // squid really carried the tunnels: its access log shows them.
    expect(readFileSync(squid.accessLog, 'utf8')).toMatch(/TCP_TUNNEL\/200 \d+ CONNECT allowed\.conformance\.test:443/);
  });
});
