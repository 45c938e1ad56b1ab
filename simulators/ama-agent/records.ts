import type { AmaMachine } from '../../fake-oms-endpoints/ama/machine.js';
import type { AgentConfiguration } from './configuration.js';

export { RECORD_ID_FIELD } from '../../lib/records/index.js';
export const HEARTBEAT_STREAM = 'HEALTH_ASSESSMENT_BLOB';

const IDENTS = ['sshd', 'cron', 'systemd', 'sudo', 'kernel'];
const FACILITIES = ['auth', 'daemon', 'syslog'];

/**
 * One collection tick: a heartbeat row to the ODS channel (AMA always sends Heartbeat), syslog rows
 * for a syslog data source, text-log rows for a custom (DCE) stream. Shapes follow captured uploads.
 */
export function collectRecords(cfg: AgentConfiguration, m: AmaMachine, volume: { syslogRows?: number; customRows?: number } = {}, now: number, random: () => number): { stream: string; item: Record<string, unknown> }[] {
  const time = new Date(now).toISOString();
  const out: { stream: string; item: Record<string, unknown> }[] = [];
  if ([...cfg.channels.values()].some((c) => c.protocol === 'ods')) {
    out.push({ stream: HEARTBEAT_STREAM, item: { Computer: m.name, OSType: m.platform === 'linux' ? 'Linux' : 'Windows', Category: 'Azure Monitor Agent', SCAgentChannel: 'Direct', Version: '1.33.1', ComputerPrivateIps: '["192.0.2.10"]', Timestamp: time } });
  }
  for (const ds of cfg.dataSources) {
    for (const stream of ds.streams) {
      if (ds.kind === 'syslog') {
        for (let i = 0; i < (volume.syslogRows ?? 2); i++) {
          const ident = IDENTS[Math.floor(random() * IDENTS.length)]!;
          out.push({ stream, item: { Facility: FACILITIES[i % FACILITIES.length], SeverityNumber: '6', Severity: 'info', EventTime: time, Timestamp: time, Host: m.name, HostIP: '192.0.2.10', ident, ProcessId: String(100 + Math.floor(random() * 30000)), Message: `${ident}: simulated message ${Math.floor(random() * 1e6)}` } });
        }
      } else if (stream.startsWith('Custom-')) {
        for (let i = 0; i < (volume.customRows ?? 2); i++) out.push({ stream, item: { TimeGenerated: time, Computer: m.name, RawData: `app line ${Math.floor(random() * 1e6)}`, FilePath: '/var/log/omsgw/app.log' } });
      }
    }
  }
  return out;
}
