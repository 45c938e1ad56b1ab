/**
 * Results of `omsgw load --shard k/n --publish <lab API>`: kept in the fake cloud's memory (next to
 * the ledger they were counted against) until `omsgw load merge --from <lab API>` collects them.
 */
export const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MAX_SHARDS = 10_000;

export class LoadResultsStore {
  private readonly runs = new Map<string, Map<number, unknown>>();

  /** Stores shard k of a run; a second result for the same shard replaces the first (a retried pod). */
  put(runId: string, shard: number, result: unknown): void {
    if (!RUN_ID_RE.test(runId)) throw Object.assign(new Error(`run id must be 1-100 letters, digits, '.', '_' or '-', got ${JSON.stringify(runId)}`), { status: 400 });
    if (!Number.isInteger(shard) || shard < 1 || shard > MAX_SHARDS) throw Object.assign(new Error(`shard must be a whole number 1-${MAX_SHARDS}, got ${JSON.stringify(shard)}`), { status: 400 });
    if (!result || typeof result !== 'object' || Array.isArray(result)) throw Object.assign(new Error('a load result must be the JSON object omsgw load --json writes'), { status: 400 });
    let run = this.runs.get(runId);
    if (!run) this.runs.set(runId, (run = new Map()));
    run.set(shard, result);
  }

  /** Every result of a run, by shard number ascending. */
  list(runId: string): Array<{ shard: number; result: unknown }> {
    return [...(this.runs.get(runId) ?? new Map<number, unknown>()).entries()].sort((a, b) => a[0] - b[0]).map(([shard, result]) => ({ shard, result }));
  }
}
