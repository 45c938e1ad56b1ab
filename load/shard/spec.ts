import { InputError } from '../../lib/errors.js';
import { RUN_ID_RE } from '../../fake-oms-endpoints/load-results.js';

/** Shard k of n of one distributed run (1-based like `jest --shard`). */
export interface ShardSpec {
  index: number;
  count: number;
  runId: string;
}

/** Loopback shards bind their agents to 127.<10 + k - 1>.0.0/16: at most this many fit below 127.255. */
export const MAX_LOOPBACK_SHARDS = 245;

/** `--shard k/n`: whole numbers, 1 <= k <= n. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new InputError(`--shard must be k/n with whole numbers, 1-based like jest --shard (e.g. 1/3), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new InputError(`--shard ${text}: n (the number of shards) must be at least 1`);
  if (index < 1 || index > count) throw new InputError(`--shard ${text}: k must be between 1 and ${count} (shards are numbered from 1, like jest --shard; a Kubernetes completion index i is shard i+1)`);
  return { index, count };
}

export function parseRunId(text: string, flag = '--run-id'): string {
  if (!RUN_ID_RE.test(text)) throw new InputError(`${flag} must be 1-100 letters, digits, '.', '_' or '-' (starting with a letter or digit), got "${text}"`);
  return text;
}

/** Every shard derives its agents from its own seed, so identities, keys and record ids never repeat across shards. */
export function shardSeed(seed: string, shard: ShardSpec | undefined): string {
  return shard ? `${seed}/shard-${shard.index}-of-${shard.count}` : seed;
}

/**
 * Where a shard's agents connect from. On loopback each shard gets its own /16 (disjoint distinct
 * clients at the gateway); towards a gateway on another machine (a pod) agents cannot bind 127.x, so
 * they use the default source address and the distinct clients are the pods.
 */
export function agentBindRange(shard: ShardSpec | undefined, gatewayOnLoopback: boolean): string | undefined {
  if (!gatewayOnLoopback) return undefined;
  const k = shard?.index ?? 1;
  if (k > MAX_LOOPBACK_SHARDS) throw new InputError(`--shard ${k}/${shard!.count}: at most ${MAX_LOOPBACK_SHARDS} shards fit in 127.0.0.0/8 on one machine; run fewer, larger shards`);
  return `127.${10 + k - 1}.0.0/16`;
}
