import type { Faker } from '@faker-js/faker';
import { seededFaker } from './identity.js';

/** Sentences in the pool: enough variety for log text, small enough to build once per process (~6 ms). */
const POOL_SIZE = 1024;
/** A fixed seed: the pool is the same in every process, so a run stays reproducible from its seed. */
const POOL_SEED = 0x6f6d7367;

let pool: string[] | undefined;

/** A log message of exactly `bytes` characters (a pool sentence cut or padded with " ."), and its JSON string literal. */
export interface PoolMessage {
  text: string;
  json: string;
}

const messages = new Map<number, PoolMessage[]>();

// Why a pool: faker's lorem.sentence() cost about 6 µs a row, a millisecond per 200 KB collection and
// the largest share of data generation in a CPU profile of `omsgw load`; a pick costs one seeded
// integer. What makes every record unique is its record id and timestamp (the cloud's ledger counts
// ids), never its message text, so drawing the text from a pool changes nothing the harness checks.

/**
 * A pool sentence fitted to `bytes` characters, with its JSON literal made once per sentence and
 * length: a 200 KB collection is mostly these messages, so its records' JSON text (see
 * NewRecord.json) is built from ready pieces instead of serializing ~1 KB per row again.
 */
export function poolMessage(faker: Faker, bytes: number): PoolMessage {
  pool ??= buildPool();
  const i = faker.number.int(POOL_SIZE - 1);
  let byLength = messages.get(bytes);
  if (!byLength) messages.set(bytes, (byLength = new Array<PoolMessage>(POOL_SIZE)));
  let m = byLength[i];
  if (!m) {
    const t = pool[i]!;
    const text = t.length >= bytes ? t.slice(0, bytes) : t.padEnd(bytes, ' .');
    m = byLength[i] = { text, json: JSON.stringify(text) };
  }
  return m;
}

function buildPool(): string[] {
  // Its own Faker: the shared one (fakerFor) is the caller's, mid-use.
  const f = seededFaker(POOL_SEED);
  return Array.from({ length: POOL_SIZE }, () => f.lorem.sentence());
}
