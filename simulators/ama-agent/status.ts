import type { AgentPhase } from '../agent-core/errors.js';
import type { AgentFailure } from '../agent-core/status.js';
import { droppedTotal, type LedgerSummary } from '../agent-core/ledger.js';
import type { AmaMachine } from '../../fake-oms-endpoints/ama/machine.js';

/** `configuring`: fetching the first configuration; `retrying`: a retry is scheduled. */
export type AmaState = 'new' | 'configuring' | 'running' | 'retrying' | 'stopped';

/** The same failure record as the legacy agents report (agent-core/status.ts). */
export type AmaFailure = AgentFailure;

export interface AmaStatus {
  agentId: string;
  hostname: string;
  os: 'ama';
  bindAddress?: string;
  state: AmaState;
  /** A configuration (data collection rules) has been fetched. */
  configured: boolean;
  /** Same as configured: the scenario runner's word for "the agent got past its first call". */
  onboarded: boolean;
  created: number;
  queued: number;
  delivered: number;
  dropped: number;
  errors: number;
  lastError?: string;
  lastFailure?: AmaFailure;
  nextRetryAt?: number;
}

export function amaStatus(x: { agent: { agentId: string; machine: AmaMachine; bindAddress?: string }; state: AmaState; configured: boolean; errors: number; lastFailure?: AmaFailure; nextRetryAt?: number; summary: LedgerSummary }): AmaStatus {
  const s = x.summary;
  return {
    agentId: x.agent.agentId,
    hostname: x.agent.machine.name,
    os: 'ama',
    bindAddress: x.agent.bindAddress,
    state: x.state,
    configured: x.configured,
    onboarded: x.configured,
    created: s.created,
    queued: s.queued,
    delivered: s.acknowledged,
    dropped: droppedTotal(s),
    errors: x.errors,
    lastError: x.lastFailure?.message,
    lastFailure: x.lastFailure,
    nextRetryAt: x.nextRetryAt,
  };
}

export type AmaCondition = { configured: true } | { delivered: number } | { created: number } | { failed: AgentPhase | true } | ((s: AmaStatus) => boolean);

export function conditionMet(c: AmaCondition, s: AmaStatus): boolean {
  if (typeof c === 'function') return c(s);
  if ('configured' in c) return s.configured;
  if ('delivered' in c) return s.delivered >= c.delivered;
  if ('created' in c) return s.created >= c.created;
  return s.lastFailure !== undefined && (c.failed === true || s.lastFailure.phase === c.failed);
}
