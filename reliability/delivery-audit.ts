import type { FakeCloud } from '../fake-oms-endpoints/index.js';
import type { SimulatedAgent } from '../simulators/agent-core/index.js';
import { accountDelivery } from '../lib/records/index.js';

/**
 * Reconciles every record the agents created with what the fake cloud ingested: the "nothing lost"
 * check, read from the harness's one accounting (lib/records accountDelivery). A record is fine when it was ingested (and the agent saw the acknowledgement), or when it
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
  const account = accountDelivery(
    agents.map((a) => ({ agent: a.identity.hostname, agentId: a.identity.agentGuid, records: a.ledger.records(), lastError: a.status().lastError })),
    cloud.ledger.summary().map((e) => ({ agentId: e.agentId, recordIds: e.recordIds, duplicates: e.duplicateRecordIds })),
  );
  const reasonOf = new Map(agents.map((a) => [a.identity.agentGuid, a.status().lastError]));
  return {
    created: account.created,
    acknowledged: account.acknowledged,
    transmissions: account.transmissions,
    retransmissions: account.retransmissions,
    ingested: account.ingested,
    duplicates: account.duplicates,
    resentAndIngested: account.perAgent.reduce((n, a) => n + a.resent, 0),
    unexplainedDuplicates: account.unexplainedDuplicates.reduce((n, d) => n + d.duplicated - d.resent, 0),
    stillQueued: account.perAgent.filter((a) => a.queued > 0 && reasonOf.get(a.agentId)).map((a) => ({ agent: a.agent, records: a.queued, reason: reasonOf.get(a.agentId)! })),
    dropped: account.dropped,
    acknowledgedButMissing: account.acknowledgedButMissing,
    queuedWithoutReason: account.queuedWithoutReason,
    unknownIngested: account.unknownIngested,
    lost: account.lost,
  };
}
