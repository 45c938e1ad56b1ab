/**
 * The messages between `omsgw load --processes N` (the parent) and its agent processes (each an
 * `omsgw load --shard k/N` child with an IPC channel), over Node's child-process IPC.
 */

/** Agent process → parent. */
export type ChildMessage =
  /** Fleet prepared and onboarded: waiting for the load window. */
  | { type: 'ready' }
  /** Round `tick` done and its quiescent point taken: the cycles' latencies and the source addresses new since the last message. */
  | { type: 'round'; tick: number; roundMs: number; latenciesUs: number[]; sources: string[] }
  /** Final quiescent point (agents closed): the last new source addresses. */
  | { type: 'end'; sources: string[] };

/** Parent → agent process. */
export type ParentMessage =
  /** Every process is ready: the load window starts now. */
  | { type: 'go' }
  /** Every process finished round `tick`: run another round (after the rest of the interval) or stop. */
  | { type: 'next'; tick: number; more: boolean };
