import { XMLParser } from 'fast-xml-parser';
import type { ScenarioResult, StepResult } from '../runner/runner.js';
import { counterCharts, stepLabelGroups, swimlaneSvg } from '../runner/reporters/html-svg.js';
import type { CollectedEvent } from '../runner/events.js';
import { renderJson } from '../runner/reporters/json.js';
import { renderJunit } from '../runner/reporters/junit.js';
import { renderPretty, renderTimeline } from '../runner/reporters/pretty.js';
import { makeStyle } from '../runner/reporters/style.js';

const ev = (seq: number, id: number, atMs: number, extra: Partial<CollectedEvent> = {}): CollectedEvent => ({
  seq, id, level: 'info', time: '2016-03-01T09:00:00.000Z', message: `event ${id}`, gateway: 'gateway', generation: 1, atMs, ...extra,
});

const target = 'scus-agentservice-prod-1.azure-automation.net:443';

function sample(): ScenarioResult {
  const events = [
    ev(1, 101, 300),
    ev(2, 103, 900, { client: 'linux-1', clientIp: '127.0.11.1', target, connectionId: 4 }),
    ev(3, 105, 910, { client: 'linux-1', clientIp: '127.0.11.1', target, connectionId: 4, message: 'Target host (scus-agentservice-prod-1.azure-automation.net) is forbidden' }),
  ];
  return {
    name: 'demo',
    title: 'a demo <scenario> & friends',
    file: '/x/demo.yaml',
    passed: false,
    verdict: 'failed',
    durationMs: 1500,
    events,
    gateways: [],
    teardown: [],
    steps: [
      { index: 0, do: 'gateway.start', line: 5, kind: 'action', description: 'start the gateway', status: 'passed', startMs: 100, durationMs: 250, summary: 'gateway pid 1 proxy 127.0.0.1:4000 (generation 1)', eventsFrom: 0, eventsTo: 1 },
      { index: 1, do: 'agents.start', line: 7, kind: 'action', description: 'start 1 linux agent(s)', status: 'passed', startMs: 400, durationMs: 600, eventsFrom: 1, eventsTo: 3 },
      {
        index: 2, do: 'expect.events', line: 9, kind: 'expectation', description: 'events from linux-1: 103 → 107', status: 'failed', startMs: 1000, durationMs: 20,
        summary: 'seen: 103 → 105', details: ['sequence does not contain 103 → 107'], expected: ['103 CONNECT received', '107 TLS session verified'], actual: ['103 CONNECT received', '105 target forbidden'],
        eventsFrom: 3, eventsTo: 3,
      },
      { index: 3, do: 'gateway.stop', line: 12, kind: 'action', description: 'stop the gateway', status: 'skipped', startMs: 1020, durationMs: 0, summary: 'needs the management API', eventsFrom: 3, eventsTo: 3 },
    ],
  };
}

describe('pretty reporter', () => {
  it('prints a timeline: relative time, step marks, event id + meaning, agent and target, in order', () => {
    const text = renderTimeline(sample());
    const lines = text.split('\n');
    const idx = (needle: string) => lines.findIndex((l) => l.includes(needle));
    expect(lines[0]).toBe('demo — a demo <scenario> & friends');
    expect(lines[idx('gateway.start')]).toMatch(/^\s+0\.10s ✓ gateway\.start\s+start the gateway$/);
    expect(lines[idx('101 service started')]).toMatch(/^\s+0\.30s\s+101 service started/);
    // One line per connection: its events in order, the agent, the target.
    const forbidden = lines[idx('105 target forbidden')];
    expect(forbidden).toMatch(/0\.90s\s+103 CONNECT received → 105 target forbidden\s+linux-1\s+→ scus-agentservice-prod-1\.azure-automation\.net:443$/);
    expect(idx('agents.start')).toBeLessThan(idx('105 target forbidden'));
    expect(lines[idx('expect.events')]).toContain('✗ expect.events');
    expect(lines[idx('gateway.stop')]).toContain('- gateway.stop');
    expect(lines[lines.length - 1]).toBe('FAILED demo in 1.5s: 2 passed, 1 failed, 1 skipped');
  });

  it('folds identical connections into one line with a count and shortens workspace GUIDs', () => {
    const host = '7a3c2f10-4b1e-4d7a-9c55-2f0e8b6d1a42.ods.opinsights.azure.com:443';
    const r = sample();
    r.events = [1, 2, 3].flatMap((c) => [ev(c * 2, 103, 100 * c, { client: 'windows-1', target: host, connectionId: c }), ev(c * 2 + 1, 107, 100 * c + 5, { client: 'windows-1', connectionId: c })]);
    r.events.push(ev(9, 103, 500, { client: 'windows-2', target: host, connectionId: 9, generation: 2 }));
    r.steps = [{ ...r.steps[1], eventsFrom: 0, eventsTo: r.events.length }];
    const lines = renderTimeline(r).split('\n').filter((l) => l.includes('CONNECT received'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/0\.10s\s+103 CONNECT received → 107 TLS session verified\s+windows-1\s+→ 7a3c2f10…\.ods\.opinsights\.azure\.com:443 ×3$/);
    expect(lines[1]).toMatch(/windows-2\s+→ 7a3c2f10….*\[gw 2\]$/);
  });

  it('with several gateways, tags each connection with its gateway (same connection id on two gateways stays two lines) and sums up each gateway', () => {
    const host = '7a3c2f10-4b1e-4d7a-9c55-2f0e8b6d1a42.ods.opinsights.azure.com:443';
    const r = sample();
    r.events = [
      ev(1, 103, 100, { gateway: 'gw1', client: 'balancer', target: host, connectionId: 1 }),
      ev(1, 103, 110, { gateway: 'gw2', client: 'balancer', target: host, connectionId: 1 }),
      ev(2, 107, 120, { gateway: 'gw1', client: 'balancer', connectionId: 1 }),
      ev(2, 107, 130, { gateway: 'gw2', client: 'balancer', connectionId: 1 }),
      ev(1, 103, 140, { gateway: 'gw2', client: 'balancer', target: host, connectionId: 1, generation: 2 }),
    ];
    r.steps = [{ ...r.steps[1], eventsFrom: 0, eventsTo: r.events.length }];
    r.gateways = [
      { name: 'gw1', generations: 1, ended: 'killed', counters: { tunnelsTotal: 4, tunnelsActive: 2, errorCount: 0 }, eventCounts: { 103: 1, 107: 1 } },
      { name: 'gw2', generations: 2, ended: 'stopped', eventCounts: { 103: 2, 107: 1 } },
    ];
    const text = renderTimeline(r);
    const lines = text.split('\n').filter((l) => l.includes('CONNECT received'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/103 CONNECT received → 107 TLS session verified\s+balancer\s+→ 7a3c2f10….*\[gw1\]$/);
    expect(lines[1]).toMatch(/103 CONNECT received → 107 TLS session verified\s+balancer\s+→ 7a3c2f10….*\[gw2\]$/);
    expect(lines[2]).toMatch(/103 CONNECT received\s+balancer\s+→ 7a3c2f10….*\[gw2 #2\]$/);
    expect(text).toContain('  gw1 (killed): events 103×1 107×1; last counters tunnelsTotal 4, tunnelsActive 2, errorCount 0');
    expect(text).toContain('  gw2 (stopped, 2 processes): events 103×2 107×1; last counters not read');
  });

  it('shows expected and actual side by side on failure', () => {
    const lines = renderTimeline(sample()).split('\n');
    const header = lines.findIndex((l) => /expected\s+│ actual/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toMatch(/103 CONNECT received\s+│ 103 CONNECT received/);
    expect(lines[header + 2]).toMatch(/107 TLS session verified\s+│ 105 target forbidden/);
  });

  it('uses colour only when asked', () => {
    expect(renderPretty([sample()], makeStyle(false))).not.toContain('\u001b[');
    const coloured = renderPretty([sample()], makeStyle(true));
    expect(coloured).toContain('\u001b[31m✗\u001b[39m');
    expect(coloured).toContain('\u001b[32m✓\u001b[39m');
  });

  it('adds an overall line for several scenarios', () => {
    const ok = { ...sample(), name: 'ok', passed: true, verdict: 'passed' as const };
    expect(renderPretty([ok, sample()], makeStyle(false))).toMatch(/1\/2 scenarios passed; failed: demo\n$/);
  });
});

describe('json reporter', () => {
  it('has passed per scenario and overall, and the full event list', () => {
    const parsed = JSON.parse(renderJson([{ ...sample(), name: 'a', passed: true, verdict: 'passed' as const }, sample()]));
    expect(parsed.passed).toBe(false);
    expect(parsed.scenarios.map((s: ScenarioResult) => [s.name, s.passed])).toEqual([['a', true], ['demo', false]]);
    expect(parsed.scenarios[1].events.map((e: CollectedEvent) => e.id)).toEqual([101, 103, 105]);
    expect(parsed.scenarios[1].events[2]).toMatchObject({ client: 'linux-1', target, generation: 1 });
    expect(parsed.scenarios[1].steps[2]).toMatchObject({ do: 'expect.events', status: 'failed', line: 9 });
  });
});

describe('junit reporter', () => {
  it('writes well-formed XML: a testsuite per scenario, a testcase per step, failures and skips', () => {
    const xml = renderJunit([sample()]);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(doc.testsuites).toMatchObject({ tests: '4', failures: '1' });
    expect(suite).toMatchObject({ name: 'demo', tests: '4', failures: '1', skipped: '1' });
    expect(suite.testcase).toHaveLength(4);
    expect(suite.testcase[2].failure.message).toBe('seen: 103 → 105');
    expect(suite.testcase[2].failure['#text']).toContain('105 target forbidden');
    expect(suite.testcase[3].skipped.message).toBe('needs the management API');
    expect(suite['system-out']).toContain('105 target forbidden');
    expect(xml).toContain('a demo &lt;scenario&gt; &amp; friends');
  });
});

describe('timeline blocks', () => {
  it('puts the later events of a connection on the line of the step where it began, and teardown events last', () => {
    const r = sample();
    const host = 'scus-agentservice-prod-1.azure-automation.net:443';
    r.events = [
      ev(1, 103, 100, { client: 'linux-1', target: host, connectionId: 7 }),
      ev(2, 107, 450, { client: 'linux-1', connectionId: 7 }),
      ev(3, 102, 2000),
    ];
    r.steps = [
      { ...r.steps[1], eventsFrom: 0, eventsTo: 1 },
      { ...r.steps[3], status: 'passed', eventsFrom: 1, eventsTo: 2 },
    ];
    const lines = renderTimeline(r).split('\n');
    const conn = lines.findIndex((l) => l.includes('103 CONNECT received → 107 TLS session verified'));
    expect(conn).toBe(lines.findIndex((l) => l.includes('agents.start')) + 1);
    expect(lines.filter((l) => l.includes('107'))).toHaveLength(1);
    expect(lines[lines.length - 3]).toContain('(while tearing down)');
    expect(lines[lines.length - 2]).toMatch(/2\.00s\s+102 service stopped/);
  });
});

describe('html timeline step labels', () => {
  const step = (index: number, startMs: number): StepResult => ({ index, do: 'expect.events', description: `step at ${startMs}`, status: 'passed', startMs } as unknown as StepResult);

  test('steps whose numbers would overlap share one label; the others keep their own', () => {
    const steps = [step(0, 0), step(1, 100), step(2, 103), step(3, 104), step(4, 106), step(5, 300)];
    const groups = stepLabelGroups(steps, (ms) => ms);
    expect(groups.map((g) => [g.x, g.text])).toEqual([[0, '1'], [100, '2–5'], [300, '6']]);
    expect(groups[1].steps.map((s) => s.index)).toEqual([1, 2, 3, 4]);
  });

  test('in the rendered timeline of a run whose steps crowd together at its end, step labels neither overlap nor run past the edge', () => {
    const crowded = { ...sample(), durationMs: 2620, steps: Array.from({ length: 17 }, (_, i) => step(i, i < 13 ? i * 200 : 2600 + i)) };
    const svg = swimlaneSvg(crowded);
    const width = Number(/viewBox="0 0 (\d+) /.exec(svg)![1]);
    // [left, right] of each label; 10px digits are at most ~6.2 units wide.
    const spans = [...svg.matchAll(/<g class="step-line"><text x="([\d.]+)"( text-anchor="end")? [^>]*>([^<]+)<\/text>/g)].map((m) => {
      const w = m[3].length * 6.2;
      const x = Number(m[1]);
      return { text: m[3], left: m[2] ? x - w : x, right: m[2] ? x : x + w };
    });
    expect(spans.at(-1)!.text).toBe('14–17');
    for (let i = 1; i < spans.length; i++) expect(spans[i].left).toBeGreaterThanOrEqual(spans[i - 1].right);
    for (const s of spans) expect(s.right).toBeLessThanOrEqual(width);
  });
});

describe('html counter charts', () => {
  test('the caption gives the data\'s own maximum (0 stays 0), while the axis still spans at least 1', () => {
    const samples = [0, 500, 1000].map((atMs, i) => ({ atMs, gateway: 'gateway', generation: 1, counters: { errorCount: 0, rejectionCount: i * 2 } }));
    const html = counterCharts(samples, 1000, []);
    expect(html).toContain('Error Count: last 0, max 0');
    expect(html).toContain('Rejection Count: last 4, max 4');
    expect(html).toMatch(/aria-label="Error Count over the run, last 0"[^]*?<text x="2" y="[\d.]+" class="axis">1<\/text>/);
  });
});
