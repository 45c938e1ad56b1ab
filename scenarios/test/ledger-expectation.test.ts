import type { ExpectLedgerStep } from '../runner/definitions.js';
import type { Lab } from '../runner/lab.js';
import { expectLedger } from '../runner/expectations/ledger.js';

/** A lab with one agent whose records the cloud took, one of them twice (a retry after a lost answer). */
function lab(attempts = { r1: 1, r2: 2 }): Lab {
  const agent = {
    name: 'windows-1',
    group: 'windows',
    handle: {
      id: 'agent-guid-1',
      createdRecordIds: () => ['r1', 'r2'],
      records: () => [{ id: 'r1', state: 'acknowledged', attempts: attempts.r1 }, { id: 'r2', state: 'acknowledged', attempts: attempts.r2 }],
      status: () => ({ lastError: undefined }),
    },
  };
  return {
    agents: [agent],
    select: () => [agent],
    cloud: { ingested: () => [{ agentId: 'agent-guid-1', dataType: 'GENERIC_EVENT_BLOB', records: 3, recordIds: ['r1', 'r2'], duplicates: 1 }] },
  } as unknown as Lab;
}

const run = (s: Partial<ExpectLedgerStep>, l: Lab = lab()) => expectLedger.run({ do: 'expect.ledger', ...s } as ExpectLedgerStep, l);

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

  it('ingestedOnceOrQueued fails on any duplicate unless allowResentDuplicates, and then only on duplicates no resend explains', async () => {
    const strict = await run({ ingestedOnceOrQueued: true });
    expect(strict.status).toBe('failed');
    expect(strict.details).toContain('1 record(s) ingested more than once');
    // r2 was sent twice (its first answer lost), so one duplicate is explained.
    expect(await run({ ingestedOnceOrQueued: true, allowResentDuplicates: true })).toMatchObject({ status: 'passed' });
    // Neither record was resent: a duplicate nobody sent twice is a real fault.
    const unexplained = await run({ ingestedOnceOrQueued: true, allowResentDuplicates: true }, lab({ r1: 1, r2: 1 }));
    expect(unexplained.status).toBe('failed');
    expect(unexplained.details).toContain('windows-1: 1 record(s) ingested more than once, but it resent only 0');
  });
});
