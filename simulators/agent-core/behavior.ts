/**
 * Agent behaviour models: how an agent buffers, retries, drops and reconnects. Sources for every
 * parameter are in docs/agents.md ("Behaviour models").
 */
import type { AgentOs } from './identity.js';

export const BEHAVIORS = ['omsagent', 'mma', 'ideal'] as const;
export type AgentBehavior = (typeof BEHAVIORS)[number];

/** The faithful model of each OS's agent. */
export function defaultBehavior(os: AgentOs): AgentBehavior {
  return os === 'linux' ? 'omsagent' : 'mma';
}

/**
 * A chunked buffer with its retry policy (fluentd 0.12 BufferedOutput for omsagent; the MMA's
 * documented cache for mma). All times are clock milliseconds.
 */
export interface ChunkModel {
  /** How often the staged chunk is queued and a flush tried (fluentd flush_interval; MMA "every 20 seconds"). */
  flushIntervalMs: number;
  /** Bytes of records (JSON) in one chunk before a new one is started (buffer_chunk_limit). */
  chunkLimitBytes: number;
  /** Queued chunks before the oldest is dropped (buffer_queue_limit + drop_oldest_chunk); undefined: no count limit. */
  queueLimitChunks?: number;
  /** Bytes in the whole buffer before the oldest chunk is dropped (MMA MaximumQueueSizeKb); undefined: no byte limit. */
  queueLimitBytes?: number;
  /** First retry wait (retry_wait), doubled on each failure. */
  retryWaitMs: number;
  /** Cap of one wait (max_retry_wait). */
  maxRetryWaitMs: number;
  /** Each wait is scaled by a factor in [1 - jitter, 1 + jitter) (fluentd: wait/8 either way). */
  jitter: number;
  /** retry_limit (fluentd counting) or retries of one chunk (MMA). */
  retryLimit: number;
  /**
   * `fluentd`: one error count for the output (fluentd 0.12 try_flush: the first failure counts 0,
   * each retry raises the count before it is tried, and the queue is thrown away when a failed
   * attempt's count reaches retry_limit — so retry_limit 6 means six attempts); when the limit is
   * reached every queued chunk is dropped (write_abort: buffer.clear!). While retrying, new records
   * stay in the staged chunk (it is queued only when the queue is empty or the chunk is full).
   * `per-chunk`: each chunk has its own retry count; after retryLimit retries that chunk alone is
   * dropped and the next one is tried; the staged chunk is queued at every flush tick.
   */
  retryCounting: 'fluentd' | 'per-chunk';
  /** Wait after a successful chunk before the next queued one (fluentd queued_chunk_flush_interval, 1 s). */
  queuedChunkFlushIntervalMs: number;
  /**
   * What chunks are keyed by: `none` (fluentd BufferedOutput's key "": one chunk mixes data types,
   * so a chunk whose second post fails is sent again whole, first type included) or `dataType`.
   */
  chunkKey: 'none' | 'dataType';
}

export interface BehaviorModel {
  name: AgentBehavior;
  /** Honour a Retry-After from the service or the proxy when it asks for longer than the backoff. */
  honourRetryAfter: boolean;
  /** Undefined: the record queue with exponential backoff (`ideal`). */
  chunks?: ChunkModel;
  /** Follow the topology response's queryInterval for the next topology heartbeat (within these bounds). */
  queryIntervalBoundsMs?: { min: number; max: number };
}

const MB = 1024 * 1024;

export const BEHAVIOR_MODELS: Record<AgentBehavior, BehaviorModel> = {
  omsagent: {
    name: 'omsagent',
    honourRetryAfter: false,
    chunks: {
      flushIntervalMs: 20_000,
      chunkLimitBytes: 15 * MB,
      queueLimitChunks: 10,
      retryWaitMs: 30_000,
      maxRetryWaitMs: 30 * 60_000,
      jitter: 0.125,
      retryLimit: 6,
      retryCounting: 'fluentd',
      queuedChunkFlushIntervalMs: 1_000,
      chunkKey: 'none',
    },
    queryIntervalBoundsMs: { min: 1_000, max: 7 * 24 * 3_600_000 },
  },
  mma: {
    name: 'mma',
    honourRetryAfter: false,
    chunks: {
      flushIntervalMs: 20_000,
      // Assumption: the MMA's chunk size is not documented; one flush interval's data is one chunk.
      chunkLimitBytes: 15 * MB,
      queueLimitBytes: 100 * MB,
      retryWaitMs: 30_000,
      maxRetryWaitMs: 9 * 60_000,
      // Assumption: "slightly randomized"; the amount is not documented.
      jitter: 0.125,
      retryLimit: 10,
      retryCounting: 'per-chunk',
      queuedChunkFlushIntervalMs: 0,
      // Assumption: each data type is its own chunk (the MMA's upload unit is not documented).
      chunkKey: 'dataType',
    },
  },
  ideal: { name: 'ideal', honourRetryAfter: true },
};

/** Overrides a caller may give for a chunked model (CLI, scenarios, tests with small limits). */
export interface BufferOverrides {
  flushIntervalMs?: number;
  chunkLimitBytes?: number;
  queueLimitChunks?: number;
  queueLimitBytes?: number;
}

/** fluentd 0.12 calc_retry_wait: retry_wait * 2^(n-1), plus rand * wait/4 - wait/8, capped by max_retry_wait. */
export function retryWaitMs(model: Pick<ChunkModel, 'retryWaitMs' | 'maxRetryWaitMs' | 'jitter'>, errors: number, random: () => number): number {
  const wait = model.retryWaitMs * 2 ** (errors - 1);
  const jittered = wait + (random() * 2 * model.jitter - model.jitter) * wait;
  return Math.round(Math.min(jittered, model.maxRetryWaitMs));
}
