/** What an agent reports about itself (status, events) and how callers wait for a state. */
import type { EventEmitter } from 'node:events';
import type { AgentError, AgentPhase } from './errors.js';
import type { AgentOs } from './identity.js';
import type { AgentLogEntry } from './options.js';

/** `failed`: the last attempt failed and nothing is scheduled (not started); `retrying`: a retry is scheduled. */
export type AgentState = 'new' | 'onboarding' | 'registering' | 'running' | 'retrying' | 'failed' | 'stopped';

export interface AgentFailure {
  phase: AgentPhase;
  kind: AgentError['kind'];
  message: string;
  target?: string;
  proxyStatus?: number;
  statusCode?: number;
  time: string;
}

/** The failure as status() reports it. */
export function failureOf(phase: AgentPhase, e: AgentError, now: number): AgentFailure {
  return { phase, kind: e.kind, message: e.message, target: e.details.target, proxyStatus: e.proxyStatus, statusCode: e.statusCode, time: new Date(now).toISOString() };
}

export interface AgentStatus {
  agentId: string;
  hostname: string;
  os: AgentOs;
  bindAddress?: string;
  state: AgentState;
  onboarded: boolean;
  /** Linux only: the automation agent-service registration succeeded (uploads wait for it). */
  agentServiceRegistered?: boolean;
  created: number;
  queued: number;
  delivered: number;
  dropped: number;
  /** Failed calls so far, all phases. */
  errors: number;
  /** The most recent onboarding, agent-service or upload call failed (heartbeats do not count). */
  lastCallFailed: boolean;
  lastError?: string;
  lastFailure?: AgentFailure;
  /** Epoch ms (agent clock) of the next scheduled retry, if any. */
  nextRetryAt?: number;
}

export interface DeliveredEvent {
  dataType: string;
  count: number;
  recordIds: string[];
  /** Acknowledged records so far. */
  delivered: number;
}

export interface FailedEvent {
  phase: AgentPhase;
  error: AgentError;
}

/** What `waitFor` can wait for; a function sees every status change. */
export type AgentCondition =
  | { onboarded: true }
  | { registered: true }
  | { delivered: number }
  | { created: number }
  | { failed: AgentPhase | true }
  | ((s: AgentStatus) => boolean);

export interface AgentEvents {
  onboarded: [AgentStatus];
  registered: [AgentStatus];
  delivered: [DeliveredEvent];
  failed: [FailedEvent];
  dropped: [{ reason: string; count: number }];
  heartbeat: [{ ok: boolean }];
  tunnel: [{ target: string; localAddress?: string; localPort?: number }];
  log: [AgentLogEntry];
  status: [AgentStatus];
}

function conditionTest(cond: AgentCondition): (s: AgentStatus, f?: AgentFailure) => boolean {
  if (typeof cond === 'function') return (s) => cond(s);
  if ('onboarded' in cond) return (s) => s.onboarded;
  if ('registered' in cond) return (s) => s.agentServiceRegistered === true;
  if ('delivered' in cond) return (s) => s.delivered >= cond.delivered;
  if ('created' in cond) return (s) => s.created >= cond.created;
  return (_s, f) => f !== undefined && (cond.failed === true || f.phase === cond.failed);
}

function describe(cond: AgentCondition): string {
  return typeof cond === 'function' ? 'a custom condition' : JSON.stringify(cond);
}

/**
 * Resolves when the condition holds, re-checking on every status-changing event; rejects after
 * timeoutMs of real time (default 30 s): a wait for sockets, not for the agent's clock.
 */
export function waitForCondition(
  agent: EventEmitter<AgentEvents>,
  read: () => { status: AgentStatus; failure?: AgentFailure },
  who: string,
  cond: AgentCondition,
  opts: { timeoutMs?: number } = {},
): Promise<AgentStatus> {
  const test = conditionTest(cond);
  const first = read();
  if (test(first.status, first.failure)) return Promise.resolve(first.status);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const check = () => {
      const now = read();
      if (test(now.status, now.failure)) {
        cleanup();
        resolve(now.status);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`agent ${who}: timed out after ${timeoutMs} ms waiting for ${describe(cond)}; status ${JSON.stringify(read().status)}`));
    }, timeoutMs);
    const events = ['status', 'delivered', 'failed', 'onboarded', 'registered'] as const;
    const cleanup = () => {
      clearTimeout(timer);
      for (const e of events) agent.off(e, check);
    };
    for (const e of events) agent.on(e, check);
  });
}
