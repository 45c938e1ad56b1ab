import type { FakeCloud } from '../../fake-oms-endpoints/index.js';
import type { SimulatedAgent } from '../../simulators/agent-core/index.js';
import { auditDelivery } from '../delivery-audit.js';

/** One agent whose two records the cloud holds; `duplicates` of them were ingested twice. */
function audit(attempts: number[], duplicates: number) {
  const records = attempts.map((n, i) => ({ id: `r${i + 1}`, state: 'acknowledged', attempts: n }));
  const agent = { identity: { hostname: 'agent-1', agentGuid: 'guid-1' }, status: () => ({ lastError: undefined }), ledger: { records: () => records } } as unknown as SimulatedAgent;
  const cloud = { ledger: { summary: () => [{ agentId: 'guid-1', recordIds: records.map((r) => r.id), duplicateRecordIds: duplicates }] } } as unknown as FakeCloud;
  return auditDelivery([agent], cloud);
}

test('a duplicate is explained only by a record its agent sent more than once', () => {
  expect(audit([1, 2], 1)).toMatchObject({ created: 2, ingested: 2, duplicates: 1, resentAndIngested: 1, unexplainedDuplicates: 0, retransmissions: 1, lost: 0 });
  expect(audit([1, 1], 1)).toMatchObject({ duplicates: 1, resentAndIngested: 0, unexplainedDuplicates: 1 });
  expect(audit([2, 3], 0)).toMatchObject({ duplicates: 0, unexplainedDuplicates: 0, retransmissions: 3 });
});

test("one agent's resends do not explain another agent's duplicates", () => {
  const mk = (agentId: string, attempts: number) => ({
    identity: { hostname: agentId, agentGuid: agentId },
    status: () => ({ lastError: undefined }),
    ledger: { records: () => [{ id: `${agentId}-r1`, state: 'acknowledged', attempts }] },
  }) as unknown as SimulatedAgent;
  const cloud = { ledger: { summary: () => [
    { agentId: 'a', recordIds: ['a-r1'], duplicateRecordIds: 0 },
    { agentId: 'b', recordIds: ['b-r1'], duplicateRecordIds: 1 },
  ] } } as unknown as FakeCloud;
  // a resent its record (no duplicate); b never resent, yet the cloud holds a duplicate of b's.
  expect(auditDelivery([mk('a', 2), mk('b', 1)], cloud)).toMatchObject({ duplicates: 1, resentAndIngested: 1, unexplainedDuplicates: 1 });
});
