import { SimulatedAgent, type AgentOptions } from '../agent-core/agent.js';
import { poolMessage } from '../agent-core/text-pool.js';
import type { AgentProtocol, CollectContext, NewRecord } from '../agent-core/protocol.js';
import { windowsTopologyRequestXml } from '../agent-core/topology.js';

export const GENERIC_EVENT_BLOB = 'GENERIC_EVENT_BLOB';
/**
 * Windows performance samples. The real MMA sends them over its own HealthService channel; the
 * simulator posts them to PostJsonDataItems under this name, by analogy with LINUX_PERF_BLOB.
 */
export const WINDOWS_PERF_BLOB = 'WINDOWS_PERF_BLOB';

const PERF_COUNTERS: [object: string, instance: string, counter: string, max: number][] = [
  ['Processor', '_Total', '% Processor Time', 100],
  ['Memory', '', 'Available MBytes', 16384],
  ['LogicalDisk', 'C:', '% Free Space', 100],
  ['LogicalDisk', 'C:', 'Avg. Disk sec/Read', 1],
  ['Network Adapter', 'Ethernet', 'Bytes Total/sec', 1e8],
  ['System', '', 'Processor Queue Length', 20],
];

const EVENTS: [log: string, source: string, id: number, level: string][] = [
  ['System', 'Service Control Manager', 7036, 'Information'],
  ['System', 'Microsoft-Windows-Kernel-General', 16, 'Information'],
  ['Application', 'MSSQLSERVER', 17137, 'Information'],
  ['Application', 'Application Error', 1000, 'Error'],
  ['System', 'Microsoft-Windows-Time-Service', 129, 'Warning'],
];

const q = (v: string): string => JSON.stringify(v);
const EVENTS_JSON = EVENTS.map(([log, source, id, level]) => `"EventLog":${q(log)},"Source":${q(source)},"EventID":${id},"EventLevelName":${q(level)}`);

export function collectWindows(ctx: CollectContext): NewRecord[] {
  const out: NewRecord[] = [];
  const ts = new Date(ctx.now).toISOString();
  const computer = ctx.identity.fqdn.toUpperCase();
  // The row's JSON text from quoted pieces, in the item's key order (= JSON.stringify(item); simulators/test/upload-body.test.ts).
  const tail = `"Computer":${q(computer)},"TimeGenerated":${q(ts)}`;
  for (let i = 0; i < ctx.volume.logRows; i++) {
    const k = ctx.faker.number.int(EVENTS.length - 1);
    const [eventLog, source, eventId, level] = EVENTS[k]!;
    const m = poolMessage(ctx.faker, ctx.volume.messageBytes);
    out.push({
      dataType: GENERIC_EVENT_BLOB,
      item: { EventLog: eventLog, Source: source, EventID: eventId, EventLevelName: level, Computer: computer, TimeGenerated: ts, RenderedDescription: m.text },
      json: `{${EVENTS_JSON[k]},${tail},"RenderedDescription":${m.json}}`,
    });
  }
  for (let i = 0; i < ctx.volume.perfSamples; i++) {
    const [objectName, instanceName, counterName, max] = PERF_COUNTERS[i % PERF_COUNTERS.length]!;
    out.push({
      dataType: WINDOWS_PERF_BLOB,
      item: { Timestamp: ts, Computer: ctx.identity.fqdn.toUpperCase(), ObjectName: objectName, InstanceName: instanceName, CounterName: counterName, CounterValue: ctx.faker.number.float({ min: 0, max, fractionDigits: 2 }) },
    });
  }
  return out;
}

export const windowsProtocol: AgentProtocol = {
  os: 'windows',
  userAgent: (id) => `MonitoringAgent/${id.agentVersion}`,
  // WinHTTP's CONNECT carries these besides Host and Proxy-Authorization.
  connectHeaders: (id) => ({ 'User-Agent': `MonitoringAgent/${id.agentVersion}`, 'Proxy-Connection': 'Keep-Alive' }),
  topologyPath: '/AgentService.svc/AgentTopologyRequest',
  topologyContentType: 'application/xml',
  topologyBody: (id, cert) => windowsTopologyRequestXml(id, cert.derBase64),
  topologyHeartbeatMs: 60_000,
  heartbeatRowsMs: 0,
  collect: collectWindows,
};

/** A simulated Microsoft Monitoring Agent (Windows). Options as createAgent's, without `os`. */
export function createWindowsAgent(options: Omit<AgentOptions, 'os'>): SimulatedAgent {
  return new SimulatedAgent(windowsProtocol, { ...options, os: 'windows' });
}
