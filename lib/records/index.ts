/**
 * lib/records: the harness's one "nothing lost" accounting and the data-item field that carries a
 * record's id from the simulated agent to the fake cloud's ledger.
 */
export * from './accounting.js';

/** Data items carry their record id in this field; the fake cloud ledgers by it. */
export const RECORD_ID_FIELD = 'omsgwRecordId';
