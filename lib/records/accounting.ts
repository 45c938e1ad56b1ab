/**
 * "Nothing lost": every record an agent created is in the cloud (once, or more than once only where
 * its agent resent it after a lost answer), or still queued at its agent with the reason its upload
 * failed. Anything else is lost. One function for the scenario runner's expect.ledger, the
 * reliability audits and `omsgw load`; each reads the parts of the account it judges.
 */

export type RecordState = 'queued' | 'sent' | 'acknowledged' | 'dropped';

/** One agent's own ledger, as the harness sees it. */
export interface AgentRecords {
  /** Display name (hostname, scenario agent name). */
  agent: string;
  /** The id the cloud knows the agent by (its onboarding GUID). */
  agentId: string;
  records: Iterable<{ id: string; state: RecordState; attempts: number; dropReason?: string }>;
  /** The agent's last failure, if any: the reason queued records are still waiting. */
  lastError?: string;
}

/** What the cloud ingested for one agent (and data type). */
export interface IngestedRecords {
  agentId: string;
  recordIds: readonly string[];
  /** Record ids that arrived more than once. */
  duplicates: number;
}

export interface AgentAccount {
  agent: string;
  agentId: string;
  created: number;
  acknowledged: number;
  /** Created records in the cloud. */
  ingested: number;
  /** Created records not in the cloud. */
  missing: number;
  /** Queued or in flight at the end, in the cloud or not. */
  queued: number;
  /** Queued or in flight and not in the cloud: waiting, fine only with a reason. */
  waiting: number;
  /** Duplicate arrivals the cloud counted for this agent. */
  duplicated: number;
  /** Records in the cloud this agent sent more than once: the only ones that may honestly be duplicates. */
  resent: number;
  transmissions: number;
}

export interface DeliveryAccount {
  perAgent: AgentAccount[];
  created: number;
  acknowledged: number;
  /** Distinct record ids in the cloud that some agent created. */
  ingested: number;
  duplicates: number;
  transmissions: number;
  retransmissions: number;
  /** Waiting records whose agent has a reason (its last error). */
  queuedWithReason: Array<{ agent: string; records: number; reason: string }>;
  /** Duplicates beyond what the agent resent (per agent id; an agent nobody here runs explains nothing). */
  unexplainedDuplicates: Array<{ agent: string; duplicated: number; resent: number }>;
  dropped: Record<string, number>;
  /** The losses, by agent and why: acknowledged but not in the cloud, dropped and not in the cloud, waiting without a reason. */
  unaccounted: Array<{ agent: string; records: number; why: string }>;
  acknowledgedButMissing: string[];
  queuedWithoutReason: string[];
  /** In the cloud, created by no agent here. */
  unknownIngested: string[];
  /** Sum of unaccounted records: must be 0. */
  lost: number;
}

export function accountDelivery(agents: readonly AgentRecords[], ingested: readonly IngestedRecords[]): DeliveryAccount {
  const inCloud = new Set<string>();
  const duplicatesByAgent = new Map<string, number>();
  let duplicates = 0;
  for (const e of ingested) {
    for (const id of e.recordIds) inCloud.add(id);
    duplicates += e.duplicates;
    duplicatesByAgent.set(e.agentId, (duplicatesByAgent.get(e.agentId) ?? 0) + e.duplicates);
  }
  const out: DeliveryAccount = {
    perAgent: [],
    created: 0,
    acknowledged: 0,
    ingested: 0,
    duplicates,
    transmissions: 0,
    retransmissions: 0,
    queuedWithReason: [],
    unexplainedDuplicates: [],
    dropped: {},
    unaccounted: [],
    acknowledgedButMissing: [],
    queuedWithoutReason: [],
    unknownIngested: [],
    lost: 0,
  };
  const known = new Set<string>();
  const nameOf = new Map<string, string>();
  const resentBy = new Map<string, number>();
  const lose = (agent: string, records: number, why: string): void => {
    if (records === 0) return;
    out.unaccounted.push({ agent, records, why });
    out.lost += records;
  };
  for (const a of agents) {
    nameOf.set(a.agentId, a.agent);
    const acc: AgentAccount = { agent: a.agent, agentId: a.agentId, created: 0, acknowledged: 0, ingested: 0, missing: 0, queued: 0, waiting: 0, duplicated: duplicatesByAgent.get(a.agentId) ?? 0, resent: 0, transmissions: 0 };
    let ackMissing = 0;
    let droppedMissing = 0;
    for (const r of a.records) {
      known.add(r.id);
      acc.created++;
      acc.transmissions += r.attempts;
      out.retransmissions += Math.max(0, r.attempts - 1);
      const there = inCloud.has(r.id);
      if (there) acc.ingested++;
      else acc.missing++;
      if (there && r.attempts > 1) acc.resent++;
      if (r.state === 'acknowledged') {
        acc.acknowledged++;
        if (!there) {
          ackMissing++;
          out.acknowledgedButMissing.push(r.id);
        }
      } else if (r.state === 'dropped') {
        const why = r.dropReason ?? 'unknown';
        out.dropped[why] = (out.dropped[why] ?? 0) + 1;
        if (!there) droppedMissing++;
      } else {
        acc.queued++;
        if (!there) acc.waiting++;
      }
    }
    resentBy.set(a.agentId, (resentBy.get(a.agentId) ?? 0) + acc.resent);
    if (acc.waiting > 0 && a.lastError) out.queuedWithReason.push({ agent: a.agent, records: acc.waiting, reason: a.lastError });
    if (acc.queued > 0 && !a.lastError) out.queuedWithoutReason.push(a.agent);
    lose(a.agent, acc.waiting > 0 && !a.lastError ? acc.waiting : 0, 'queued, but the agent recorded no failure');
    lose(a.agent, ackMissing, 'acknowledged by the cloud but not in its ledger');
    lose(a.agent, droppedMissing, 'dropped by the agent');
    out.created += acc.created;
    out.acknowledged += acc.acknowledged;
    out.transmissions += acc.transmissions;
    out.perAgent.push(acc);
  }
  for (const [agentId, duplicated] of duplicatesByAgent) {
    const resent = resentBy.get(agentId) ?? 0;
    if (duplicated > resent) out.unexplainedDuplicates.push({ agent: nameOf.get(agentId) ?? `unknown agent ${agentId}`, duplicated, resent });
  }
  for (const id of inCloud) {
    if (known.has(id)) out.ingested++;
    else out.unknownIngested.push(id);
  }
  return out;
}
