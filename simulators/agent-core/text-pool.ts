import type { Faker } from '@faker-js/faker';
import { seededFaker } from './identity.js';

/** Sentences in the pool: enough variety for log text, small enough to build once per process (~6 ms). */
const POOL_SIZE = 1024;
/** A fixed seed: the pool is the same in every process, so a run stays reproducible from its seed. */
const POOL_SEED = 0x6f6d7367;

let pool: string[] | undefined;

/**
 * A lorem sentence for a log row, picked from a pool built once per process. faker's
 * lorem.sentence() cost about 6 µs a row, a millisecond per 200 KB collection and the largest share
 * of the data generation in a CPU profile of `omsgw load`; the pick costs one seeded integer. What
 * makes every record unique is its record id and timestamp (the cloud's ledger counts ids), never
 * its message text, so drawing the text from a pool changes nothing the harness checks.
 */
export function poolSentence(faker: Faker): string {
  pool ??= buildPool();
  return pool[faker.number.int(POOL_SIZE - 1)]!;
}

function buildPool(): string[] {
  // Its own Faker: the shared one (fakerFor) is the caller's, mid-use.
  const f = seededFaker(POOL_SEED);
  return Array.from({ length: POOL_SIZE }, () => f.lorem.sentence());
}
