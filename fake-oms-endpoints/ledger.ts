/** What arrived, per workspace, agent and data type: counters and record ids, never payload copies. */
export interface LedgerEntry {
  workspaceId: string;
  agentId: string;
  dataType: string;
  /** Number of accepted posts. */
  posts: number;
  /** DataItems accepted. */
  records: number;
  /** Body bytes as received on the wire (before Content-Encoding is undone). */
  bytes: number;
  /** Body bytes after decoding. */
  decodedBytes: number;
  /** Distinct `omsgwRecordId` values, in arrival order. */
  recordIds: string[];
  /** Record ids that arrived more than once (retries after a lost answer). */
  duplicateRecordIds: number;
}

export interface LedgerTotals {
  posts: number;
  records: number;
  bytes: number;
  decodedBytes: number;
}

export interface LedgerFilter {
  workspaceId?: string;
  agentId?: string;
}

interface Bucket extends Omit<LedgerEntry, 'recordIds'> {
  ids: Set<string>;
}

export class IngestionLedger {
  private buckets = new Map<string, Bucket>();

  record(e: { workspaceId: string; agentId: string; dataType: string; records: number; bytes: number; decodedBytes: number; recordIds: readonly string[] }): void {
    const key = `${e.workspaceId}\u0000${e.agentId}\u0000${e.dataType}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = { workspaceId: e.workspaceId, agentId: e.agentId, dataType: e.dataType, posts: 0, records: 0, bytes: 0, decodedBytes: 0, duplicateRecordIds: 0, ids: new Set() };
      this.buckets.set(key, b);
    }
    b.posts += 1;
    b.records += e.records;
    b.bytes += e.bytes;
    b.decodedBytes += e.decodedBytes;
    for (const id of e.recordIds) {
      if (b.ids.has(id)) b.duplicateRecordIds += 1;
      else b.ids.add(id);
    }
  }

  /** Entries sorted by workspace, agent, data type; optionally for one workspace. */
  summary(filter: LedgerFilter = {}): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (const b of this.matching(filter)) {
      const { ids, ...rest } = b;
      out.push({ ...rest, recordIds: [...ids] });
    }
    return out.sort((a, b) => a.workspaceId.localeCompare(b.workspaceId) || a.agentId.localeCompare(b.agentId) || a.dataType.localeCompare(b.dataType));
  }

  /** Sums over every entry, or over those the filter selects. */
  totals(filter: LedgerFilter = {}): LedgerTotals {
    const t: LedgerTotals = { posts: 0, records: 0, bytes: 0, decodedBytes: 0 };
    for (const b of this.matching(filter)) {
      t.posts += b.posts;
      t.records += b.records;
      t.bytes += b.bytes;
      t.decodedBytes += b.decodedBytes;
    }
    return t;
  }

  /** True when this record id arrived (for any agent/data type). */
  has(recordId: string): boolean {
    for (const b of this.buckets.values()) if (b.ids.has(recordId)) return true;
    return false;
  }

  /** Workspace ids and agent GUIDs compare case-insensitively (the cloud stores them lower-case). */
  private *matching(filter: LedgerFilter): Iterable<Bucket> {
    const ws = filter.workspaceId?.toLowerCase();
    const agent = filter.agentId?.toLowerCase();
    for (const b of this.buckets.values()) {
      if (ws && b.workspaceId.toLowerCase() !== ws) continue;
      if (agent && b.agentId.toLowerCase() !== agent) continue;
      yield b;
    }
  }

  /** Forgets every entry, or only those the filter selects. */
  reset(filter: LedgerFilter = {}): void {
    if (!filter.workspaceId && !filter.agentId) return this.buckets.clear();
    const gone = new Set(this.matching(filter));
    for (const [key, b] of this.buckets) if (gone.has(b)) this.buckets.delete(key);
  }
}
