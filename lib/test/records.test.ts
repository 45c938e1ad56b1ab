import { accountDelivery, type AgentRecords } from '../records/index.js';

const agent = (name: string, records: AgentRecords['records'], lastError?: string): AgentRecords => ({ agent: name, agentId: `${name}-guid`, records, lastError });

test('every created record is ingested, queued with a reason, or lost — and each loss says why', () => {
  const acc = accountDelivery(
    [
      agent('a', [
        { id: 'a1', state: 'acknowledged', attempts: 1 },
        { id: 'a2', state: 'acknowledged', attempts: 1 }, // acknowledged, never ingested: lost
        { id: 'a3', state: 'queued', attempts: 1 }, // waiting, a has a reason
      ], 'Proxy CONNECT refused: 502'),
      agent('b', [
        { id: 'b1', state: 'queued', attempts: 0 }, // waiting without any failure: lost
        { id: 'b2', state: 'dropped', attempts: 1, dropReason: 'queue-full' }, // dropped, not ingested: lost
        { id: 'b3', state: 'sent', attempts: 2 }, // in flight but already in the cloud: fine
      ]),
    ],
    [
      { agentId: 'a-guid', recordIds: ['a1'], duplicates: 0 },
      { agentId: 'b-guid', recordIds: ['b3', 'x9'], duplicates: 0 },
    ],
  );
  expect(acc).toMatchObject({ created: 6, acknowledged: 2, ingested: 2, lost: 3, unknownIngested: ['x9'], acknowledgedButMissing: ['a2'], queuedWithoutReason: ['b'], dropped: { 'queue-full': 1 } });
  expect(acc.queuedWithReason).toEqual([{ agent: 'a', records: 1, reason: 'Proxy CONNECT refused: 502' }]);
  expect(acc.unaccounted).toEqual([
    { agent: 'a', records: 1, why: 'acknowledged by the cloud but not in its ledger' },
    { agent: 'b', records: 1, why: 'queued, but the agent recorded no failure' },
    { agent: 'b', records: 1, why: 'dropped by the agent' },
  ]);
  expect(acc.perAgent.map((p) => [p.agent, p.created, p.ingested, p.missing, p.queued, p.waiting])).toEqual([
    ['a', 3, 1, 2, 1, 1],
    ['b', 3, 1, 2, 2, 1],
  ]);
});

test('a duplicate is explained only by a resend of the same agent; an unknown agent\'s duplicate never is', () => {
  const acc = accountDelivery(
    [agent('a', [{ id: 'a1', state: 'acknowledged', attempts: 2 }]), agent('b', [{ id: 'b1', state: 'acknowledged', attempts: 1 }])],
    [
      { agentId: 'a-guid', recordIds: ['a1'], duplicates: 1 },
      { agentId: 'b-guid', recordIds: ['b1'], duplicates: 1 },
      { agentId: 'ghost', recordIds: [], duplicates: 2 },
    ],
  );
  expect(acc.duplicates).toBe(4);
  expect(acc.unexplainedDuplicates).toEqual([
    { agent: 'b', duplicated: 1, resent: 0 },
    { agent: 'unknown agent ghost', duplicated: 2, resent: 0 },
  ]);
  expect(acc.lost).toBe(0);
});
