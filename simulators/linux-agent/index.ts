import { SimulatedAgent, type AgentOptions } from '../agent-core/agent.js';
import type { ClientCertificate } from '../agent-core/certificate.js';
import type { AgentIdentity } from '../agent-core/identity.js';
import { poolMessage } from '../agent-core/text-pool.js';
import type { AgentProtocol, CollectContext, HttpCall, NewRecord } from '../agent-core/protocol.js';
import { formatAgentDate, authorizationSignature, contentHash } from '../agent-core/signing.js';
import { linuxTopologyRequestXml } from '../agent-core/topology.js';

export const LINUX_PERF_BLOB = 'LINUX_PERF_BLOB';
export const LINUX_SYSLOGS_BLOB = 'LINUX_SYSLOGS_BLOB';
export const HEALTH_ASSESSMENT_BLOB = 'HEALTH_ASSESSMENT_BLOB';

const PERF_COUNTERS: [object: string, instance: string, counter: string, max: number][] = [
  ['Processor', '_Total', '% Processor Time', 100],
  ['Memory', 'Memory', '% Used Memory', 100],
  ['Memory', 'Memory', 'Available MBytes Memory', 16384],
  ['Logical Disk', '/', '% Used Space', 100],
  ['Network', 'eth0', 'Total Bytes Transmitted', 1e9],
  ['System', 'System', 'Processes', 400],
];

const SYSLOG_SOURCES: [ident: string, facility: string, severity: string][] = [
  ['CRON', 'cron', 'info'],
  ['sshd', 'authpriv', 'info'],
  ['kernel', 'kern', 'warning'],
  ['systemd', 'daemon', 'notice'],
  ['rsyslogd', 'syslog', 'err'],
];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const q = (v: string): string => JSON.stringify(v);
const SYSLOG_JSON = SYSLOG_SOURCES.map(([ident, facility, severity]) => ({ ident: q(ident), facility: q(facility), severity: q(severity) }));

/** out_oms.rb's data (LINUX_PERF_BLOB, LINUX_SYSLOGS_BLOB) and heartbeat_lib.rb's heartbeat row. */
export function collectLinux(ctx: CollectContext): NewRecord[] {
  const out: NewRecord[] = [];
  const ts = iso(ctx.now);
  for (let i = 0; i < ctx.volume.perfSamples; i++) {
    const [objectName, instanceName, counterName, max] = PERF_COUNTERS[i % PERF_COUNTERS.length]!;
    out.push({
      dataType: LINUX_PERF_BLOB,
      item: {
        Timestamp: ts,
        Host: ctx.identity.hostname,
        ObjectName: objectName,
        InstanceName: instanceName,
        Collections: [{ CounterName: counterName, Value: String(ctx.faker.number.int({ min: 0, max })) }],
      },
    });
  }
  const hostIp = ctx.identity.privateIps[0];
  // The row's JSON text from quoted pieces, in the item's key order (= JSON.stringify(item); simulators/test/upload-body.test.ts).
  const head = `"Timestamp":${q(ts)},"Host":${q(ctx.identity.hostname)}${hostIp === undefined ? '' : `,"HostIP":${q(hostIp)}`}`;
  for (let i = 0; i < ctx.volume.logRows; i++) {
    const k = ctx.faker.number.int(SYSLOG_SOURCES.length - 1);
    const [ident, facility, severity] = SYSLOG_SOURCES[k]!;
    const j = SYSLOG_JSON[k]!;
    const m = poolMessage(ctx.faker, ctx.volume.messageBytes);
    out.push({
      dataType: LINUX_SYSLOGS_BLOB,
      item: { ident, Timestamp: ts, Host: ctx.identity.hostname, HostIP: hostIp, Facility: facility, Severity: severity, Message: m.text },
      json: `{"ident":${j.ident},${head},"Facility":${j.facility},"Severity":${j.severity},"Message":${m.json}}`,
    });
  }
  return out;
}

export function linuxHeartbeatRow(ctx: CollectContext): NewRecord {
  const [major, minor] = ctx.identity.osVersion.split('.');
  return {
    dataType: HEALTH_ASSESSMENT_BLOB,
    item: {
      Timestamp: iso(ctx.now),
      Computer: ctx.identity.hostname,
      OSType: 'Linux',
      OSName: ctx.identity.osName,
      OSMajorVersion: major,
      OSMinorVersion: minor ?? '0',
      Category: 'Agent',
      SCAgentChannel: 'Direct',
      ComputerPrivateIps: ctx.identity.privateIps,
      Version: ctx.identity.agentVersion,
    },
  };
}

/**
 * DSC node registration at the automation agent-service host named by the topology response
 * (PUT .../Accounts/<ws>/Nodes(AgentId='<guid>'), protocol 2.0, certificate-authenticated, with a
 * shared-key signature over the body hash and date).
 */
export function dscRegistrationCall(ctx: { identity: AgentIdentity; cert: ClientCertificate; dscEndpoint: string; workspaceKey: string; now: number }): HttpCall {
  const body = JSON.stringify({
    AgentId: ctx.identity.agentGuid,
    AgentInformation: { LCMVersion: '2.0', NodeName: ctx.identity.hostname, IPAddress: ctx.identity.privateIps.join(';') },
    RegistrationInformation: {
      CertificateInformation: { FriendlyName: 'OMS Agent', Subject: ctx.cert.subject, Issuer: ctx.cert.subject, Thumbprint: ctx.cert.thumbprint, PublicKey: ctx.cert.derBase64, Version: 3 },
      RegistrationMessageType: 'ConfigurationRepository',
    },
  });
  const date = formatAgentDate(ctx.now);
  const hash = contentHash(body);
  return {
    method: 'PUT',
    url: ctx.dscEndpoint,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      Accept: 'application/json',
      ProtocolVersion: '2.0',
      'x-ms-date': date,
      Authorization: `Shared ${authorizationSignature(date, hash, ctx.workspaceKey)}`,
      'User-Agent': `LinuxMonitoringAgent/${ctx.identity.agentVersion}`,
    },
    body,
  };
}

export const linuxProtocol: AgentProtocol = {
  os: 'linux',
  userAgent: (id) => `LinuxMonitoringAgent/${id.agentVersion}`,
  // Ruby Net::HTTP (the agent's data path) sends only Host and Proxy-Authorization on CONNECT.
  connectHeaders: () => ({}),
  topologyPath: '/AgentService.svc/LinuxAgentTopologyRequest',
  // omsadmin.sh posts with `curl --data-binary` and no Content-Type header: curl's default applies.
  topologyContentType: 'application/x-www-form-urlencoded',
  topologyBody: (id, cert) => linuxTopologyRequestXml(id, cert.pemBody),
  topologyHeartbeatMs: 20 * 60_000,
  heartbeatRowsMs: 60_000,
  heartbeatRow: linuxHeartbeatRow,
  collect: collectLinux,
  agentServiceCall: dscRegistrationCall,
};

/** A simulated omsagent (Linux). Options as createAgent's, without `os`. */
export function createLinuxAgent(options: Omit<AgentOptions, 'os'>): SimulatedAgent {
  return new SimulatedAgent(linuxProtocol, { ...options, os: 'linux' });
}
