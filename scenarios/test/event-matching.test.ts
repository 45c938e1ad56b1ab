import type { ExpectEventsStep } from '../runner/definitions.js';
import type { CollectedEvent } from '../runner/events.js';
import { isSubsequence, judgeEvents, selectEvents } from '../runner/expectations/events.js';

const OMS = 'ws.oms.opinsights.azure.com:443';
const AUTO = 'scus-agentservice-prod-1.azure-automation.net:443';

let seq = 0;
function ev(id: number, client: string, connectionId: number, target?: string, extra: Partial<CollectedEvent> = {}): CollectedEvent {
  seq++;
  return { seq, id, level: 'info', time: '2016-03-01T09:00:00Z', message: `event ${id}`, gateway: 'gateway', generation: 1, atMs: seq, client, connectionId, target, ...extra } as CollectedEvent;
}

/** The lab's client-name lookup for agents linux-1 and windows-1 (groups linux, windows). */
const lab = {
  clientNamesFor(selector: string): Set<string> {
    const all = ['linux-1', 'windows-1'];
    const names = all.filter((n) => n === selector || n.startsWith(`${selector}-`));
    if (!names.length) throw new Error(`unknown ${selector}`);
    return new Set(names);
  },
};

function step(s: Partial<ExpectEventsStep>): ExpectEventsStep {
  return { do: 'expect.events', ...s } as ExpectEventsStep;
}

function judge(s: Partial<ExpectEventsStep>, events: CollectedEvent[], generation = 1): string[] {
  const st = step(s);
  return judgeEvents(st, selectEvents(events, lab, st, () => generation));
}

describe('event expectations', () => {
  it('isSubsequence keeps order and allows gaps, nothing more', () => {
    expect(isSubsequence([103, 107], [103, 200, 107])).toBe(true);
    expect(isSubsequence([103, 107], [107, 103])).toBe(false);
    expect(isSubsequence([103, 105], [103])).toBe(false);
    expect(isSubsequence([], [103])).toBe(true);
  });

  it('match: exact refuses extra events where a subsequence accepts them', () => {
    const events = [ev(103, 'linux-1', 1, AUTO), ev(105, 'linux-1', 1, AUTO), ev(103, 'linux-1', 2, AUTO), ev(105, 'linux-1', 2, AUTO)];
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 105] }, events)).toEqual([]);
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 105], match: 'exact' }, events)).toEqual(['sequence is not exactly 103 → 105']);
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 105], match: 'exact' }, events.slice(0, 2))).toEqual([]);
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 105, 103], match: 'exact' }, events.slice(0, 2))).toEqual(['sequence is not exactly 103 → 105 → 103']);
  });

  it('an event without a target (107) belongs to its connection\'s target, not to every target', () => {
    const events = [ev(103, 'linux-1', 1, OMS), ev(107, 'linux-1', 1), ev(103, 'linux-1', 2, AUTO), ev(105, 'linux-1', 2, AUTO)];
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 105], match: 'exact' }, events)).toEqual([]);
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 107] }, events)).toEqual(['sequence does not contain 103 → 107']);
    expect(judge({ client: 'linux-1', target: OMS, sequence: [103, 107], match: 'exact', absent: [105] }, events)).toEqual([]);
  });

  it('connection ids are per gateway process: a restarted gateway\'s connection 1 is another connection', () => {
    const events = [ev(103, 'linux-1', 1, AUTO), ev(105, 'linux-1', 1, AUTO), ev(103, 'linux-1', 1, OMS, { generation: 2 }), ev(107, 'linux-1', 1, undefined, { generation: 2 })];
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 105], match: 'exact' }, events, 2)).toEqual([]);
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [107] }, events, 2)).toEqual(['sequence does not contain 107']);
  });

  it('generation: current looks only at the running process, so an earlier 105 is not seen and a later one is', () => {
    const before = [ev(103, 'linux-1', 1, AUTO), ev(105, 'linux-1', 1, AUTO)];
    const after = [ev(103, 'linux-1', 1, AUTO, { generation: 2 }), ev(107, 'linux-1', 1, undefined, { generation: 2 })];
    expect(judge({ client: 'linux-1', target: AUTO, generation: 'current', sequence: [103, 107], absent: [105] }, [...before, ...after], 2)).toEqual([]);
    expect(judge({ client: 'linux-1', target: AUTO, sequence: [103, 107], absent: [105] }, [...before, ...after], 2)).toEqual(['event 105 (target forbidden) present']);
    const refusedAgain = [...after, ev(103, 'linux-1', 2, AUTO, { generation: 2 }), ev(105, 'linux-1', 2, AUTO, { generation: 2 })];
    expect(judge({ client: 'linux-1', target: AUTO, generation: 'current', sequence: [103, 107], absent: [105] }, refusedAgain, 2)).toEqual(['event 105 (target forbidden) present']);
  });

  it('selects by client (agent or group) and by target with or without a port', () => {
    const events = [ev(103, 'windows-1', 1, OMS), ev(105, 'linux-1', 2, AUTO), ev(103, 'linux-1', 3, 'ws.oms.opinsights.azure.com:80')];
    expect(judge({ client: 'windows', sequence: [103], absent: [105] }, events)).toEqual([]);
    expect(judge({ client: 'linux', absent: [105] }, events)).toEqual(['event 105 (target forbidden) present']);
    // host:port is exact; a bare host matches any port
    expect(selectEvents(events, lab, step({ target: OMS }), () => 1).map((e) => e.seq)).toEqual([events[0].seq]);
    expect(selectEvents(events, lab, step({ target: 'WS.oms.opinsights.azure.com' }), () => 1).map((e) => e.seq)).toEqual([events[0].seq, events[2].seq]);
  });

  it('messageContains needs a selected event with that text', () => {
    const events = [ev(103, 'linux-1', 1, AUTO), ev(105, 'linux-1', 1, AUTO, { message: `Target host (${AUTO}) is forbidden` }), ev(105, 'windows-1', 2, OMS, { message: 'Invalid Client certificate: CN=x' })];
    expect(judge({ client: 'linux-1', sequence: [105], messageContains: ['is forbidden'] }, events)).toEqual([]);
    expect(judge({ client: 'linux-1', sequence: [105], messageContains: ['Invalid Client certificate'] }, events)).toEqual(['no event message contains "Invalid Client certificate"']);
  });
});
