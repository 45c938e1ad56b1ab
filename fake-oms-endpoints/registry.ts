import type { CertificateInfo } from './protocol/certificates.js';
import type { TopologyRequest } from './protocol/topology.js';

export interface RegisteredAgent {
  agentId: string;
  workspaceId: string;
  os: 'linux' | 'windows';
  fqdn: string;
  certificateSubject: string;
  thumbprint: string;
  fingerprint256: string;
  operatingSystem?: TopologyRequest['operatingSystem'];
  registeredAt: string;
  onboardings: number;
  heartbeats: number;
  lastSeenAt: string;
  dscRegistered: boolean;
  dscCalls: number;
}

/** Agents known to the cloud, keyed by certificate thumbprint (how the service recognises them later). */
export class AgentRegistry {
  private byThumbprint = new Map<string, RegisteredAgent>();

  register(a: { workspaceId: string; os: 'linux' | 'windows'; request: TopologyRequest; cert: CertificateInfo; now: string }): RegisteredAgent {
    const existing = this.byThumbprint.get(a.cert.thumbprint);
    if (existing && existing.workspaceId === a.workspaceId && existing.agentId === a.request.entityTypeId) {
      existing.onboardings += 1;
      existing.lastSeenAt = a.now;
      existing.fqdn = a.request.fqdn;
      existing.operatingSystem = a.request.operatingSystem ?? existing.operatingSystem;
      return { ...existing };
    }
    const agent: RegisteredAgent = {
      agentId: a.request.entityTypeId,
      workspaceId: a.workspaceId,
      os: a.os,
      fqdn: a.request.fqdn,
      certificateSubject: a.cert.subject,
      thumbprint: a.cert.thumbprint,
      fingerprint256: a.cert.fingerprint256,
      operatingSystem: a.request.operatingSystem,
      registeredAt: a.now,
      onboardings: 1,
      heartbeats: 0,
      lastSeenAt: a.now,
      dscRegistered: false,
      dscCalls: 0,
    };
    this.byThumbprint.set(a.cert.thumbprint, agent);
    return { ...agent };
  }

  /** The live record (callers in this package update counters on it). */
  byCertificate(thumbprint: string | undefined): RegisteredAgent | undefined {
    return thumbprint ? this.byThumbprint.get(thumbprint) : undefined;
  }

  list(filter: { workspaceId?: string } = {}): RegisteredAgent[] {
    return [...this.byThumbprint.values()].filter((a) => !filter.workspaceId || a.workspaceId === filter.workspaceId).map((a) => ({ ...a }));
  }

  clear(): void {
    this.byThumbprint.clear();
  }
}
