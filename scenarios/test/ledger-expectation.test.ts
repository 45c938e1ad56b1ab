import type { ExpectLedgerStep } from '../runner/definitions.js';
import type { Lab } from '../runner/lab.js';
import { expectLedger } from '../runner/expectations/ledger.js';

/** A lab with one agent whose records the cloud took, one of them twice (a retry after a lost answer). */
function lab(): Lab {
  const agent = {
    name: 'windows-1',
    group: 'windows',
    handle: {
      id: 'agent-guid-1',
      createdRecordIds: () => ['r1', 'r2'],
      records: () => [{ id: 'r1', state: 'acknowledged' }, { id: 'r2', state: 'acknowledged' }],
      status: () => ({ lastError: undefined }),
    },
  };
  return {
    agents: [agent],
    select: () => [agent],
    cloud: { ingested: () => [{ agentId: 'agent-guid-1', dataType: 'GENERIC_EVENT_BLOB', records: 3, recordIds: ['r1', 'r2'], duplicates: 1 }] },
  } as unknown as Lab;
}

const run = (s: Partial<ExpectLedgerStep>) => expectLedger.run({ do: 'expect.ledger', ...s } as ExpectLedgerStep, lab());

describe('expect.ledger', () => {
  it('counts distinct records per agent and type: a record ingested twice is one record', async () => {
    expect(await run({ records: [{ agents: 'windows', count: 2 }] })).toMatchObject({ status: 'passed', summary: 'windows = 2' });
    expect(await run({ records: [{ agents: 'windows', dataType: 'GENERIC_EVENT_BLOB', count: { min: 3 } }] })).toMatchObject({ status: 'failed', details: expect.arrayContaining(['windows GENERIC_EVENT_BLOB: 2 records']) });
    expect(await run({ records: [{ dataType: 'LINUX_PERF_BLOB', count: 0 }] })).toMatchObject({ status: 'passed' });
  });

  it('createdEqualsIngested fails on the duplicate even though every record arrived', async () => {
    const r = await run({ createdEqualsIngested: true });
    expect(r.status).toBe('failed');
    expect(r.details).toContain('records lost or duplicated');
    expect(r.summary).toBe('created 2, ingested 2, missing 0, duplicated 1');
  });
});
