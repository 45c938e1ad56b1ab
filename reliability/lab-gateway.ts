import { existsSync, readFileSync } from 'node:fs';
import { AGENT_SERVICE_HOST, odsHost, omsHost, type FakeCloud } from '../fake-oms-endpoints/index.js';

/**
 * What the reliability runs (faults, high availability) share about the gateway child process:
 * the arguments that let a fleet of one workspace reach the fake cloud, and reading back the
 * JSON-lines event log it writes (which survives a SIGKILL, unlike its management API).
 */

/** Gateway arguments: the workspace's oms/ods hosts and the Linux agent-service host allowed, host-mapped to the cloud, events to `eventLog`. */
export function labGatewayArgs(cloud: Pick<FakeCloud, 'hostMapEntries'>, workspaceId: string, eventLog: string): string[] {
  const allow = [omsHost(workspaceId), odsHost(workspaceId), AGENT_SERVICE_HOST];
  return [...allow.flatMap((h) => ['--allow-host', h]), ...cloud.hostMapEntries().flatMap((e) => ['--host-map', e]), '--event-log', eventLog];
}

export interface LoggedEvent {
  seq: number;
  id: number;
  message: string;
  time: string;
  target?: string;
  clientIp?: string;
}

/** The events of an --event-log file; a last line cut short by a SIGKILL is left out (everything before it is intact). */
export function readEventLogFile(path: string): LoggedEvent[] {
  if (!existsSync(path)) return [];
  const out: LoggedEvent[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as LoggedEvent;
      out.push({ seq: e.seq, id: e.id, message: e.message, time: e.time, target: e.target, clientIp: e.clientIp });
    } catch {
      // cut short by a kill
    }
  }
  return out;
}

/** How many events of each id. */
export function countEventIds(events: readonly Pick<LoggedEvent, 'id'>[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const e of events) c[e.id] = (c[e.id] ?? 0) + 1;
  return c;
}
