import type { FakeCloud } from '../fake-oms-endpoints/index.js';
import type { SimulatedAgent } from '../simulators/agent-core/index.js';

/**
 * Reconciles every record the agents created with what the fake cloud ingested: the "nothing lost"
 * check. A record is fine when it was ingested (and the agent saw the acknowledgement), or when it
 * is still queued at the agent with the reason its last upload failed. Anything else is a loss.
 */
export interface DeliveryAudit {
  created: number;
  acknowledged: number;
  /** Transmissions counting retries (a record sent twice counts twice). */
  transmissions: number;
  /** Record transmissions beyond the first. */
  retransmissions: number;
  /** Distinct record ids the cloud ingested. */
  ingested: number;
  /** Records the cloud ingested more than once (an answer lost after the cloud accepted the post). */
  duplicates: number;
  /** Ingested records their agent sent more than once: the only records that can honestly be duplicates. */
  resentAndIngested: number;
  /** Per agent, duplicates beyond the records that agent resent: a gateway or cloud replaying data. Must be 0. */
  unexplainedDuplicates: number;
  stillQueued: Array<{ agent: string; records: number; reason: string }>;
  dropped: Record<string, number>;
  /** Acknowledged by the agent but absent from the cloud: must be empty. */
  acknowledgedButMissing: string[];
  /** Queued at the agent without any recorded failure reason: must be empty. */
  queuedWithoutReason: string[];
  /** Ingested by the cloud but unknown to every agent: must be empty. */
  unknownIngested: string[];
  /** created = ingested + queued-with-reason, nothing dropped, nothing missing. */
  lost: number;
}

export function auditDelivery(agents: readonly SimulatedAgent[], cloud: FakeCloud): DeliveryAudit {
  const cloudIds = new Set<string>();
  let duplicates = 0;
  const duplicatesByAgent = new Map<string, number>();
  const resentByAgent = new Map<string, number>();
  for (const e of cloud.ledger.summary()) {
    for (const id of e.recordIds) cloudIds.add(id);
    duplicates += e.duplicateRecordIds;
    duplicatesByAgent.set(e.agentId, (duplicatesByAgent.get(e.agentId) ?? 0) + e.duplicateRecordIds);
  }
  const known = new Set<string>();
  const audit: DeliveryAudit = {
    created: 0,
    acknowledged: 0,
    transmissions: 0,
    retransmissions: 0,
    ingested: 0,
    duplicates,
    resentAndIngested: 0,
    unexplainedDuplicates: 0,
    stillQueued: [],
    dropped: {},
    acknowledgedButMissing: [],
    queuedWithoutReason: [],
    unknownIngested: [],
    lost: 0,
  };
  for (const a of agents) {
    const reason = a.status().lastError;
    let queuedHere = 0;
    let resentHere = 0;
    for (const r of a.ledger.records()) {
      known.add(r.id);
      audit.created++;
      audit.transmissions += r.attempts;
      audit.retransmissions += Math.max(0, r.attempts - 1);
      if (r.attempts > 1 && cloudIds.has(r.id)) resentHere++;
      if (r.state === 'acknowledged') {
        audit.acknowledged++;
        if (!cloudIds.has(r.id)) {
          audit.acknowledgedButMissing.push(r.id);
          audit.lost++;
        }
      } else if (r.state === 'dropped') {
        const why = r.dropReason ?? 'unknown';
        audit.dropped[why] = (audit.dropped[why] ?? 0) + 1;
        if (!cloudIds.has(r.id)) audit.lost++;
      } else {
        // Queued or in flight. It may already be in the cloud (answer lost): then it is not lost.
        queuedHere++;
        if (!cloudIds.has(r.id) && !reason) audit.lost++;
      }
    }
    audit.resentAndIngested += resentHere;
    resentByAgent.set(a.identity.agentGuid, resentHere);
    if (queuedHere > 0) {
      if (reason) audit.stillQueued.push({ agent: a.identity.hostname, records: queuedHere, reason });
      else audit.queuedWithoutReason.push(a.identity.hostname);
    }
  }
  // Per agent (the cloud knows agents by the GUID they onboarded with): one agent's resends cannot
  // explain another's duplicates, and duplicates of an agent nobody here runs are never explained.
  for (const [agentId, dup] of duplicatesByAgent) audit.unexplainedDuplicates += Math.max(0, dup - (resentByAgent.get(agentId) ?? 0));
  audit.ingested = [...cloudIds].filter((id) => known.has(id)).length;
  audit.unknownIngested = [...cloudIds].filter((id) => !known.has(id));
  return audit;
}
