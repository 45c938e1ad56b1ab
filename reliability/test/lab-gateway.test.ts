import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countEventIds, labGatewayArgs, readEventLogFile } from '../lab-gateway.js';

describe('lab gateway helpers', () => {
  it('reads an event-log file whose last line a SIGKILL cut short, and counts ids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omsgw-evlog-'));
    try {
      const file = join(dir, 'events.jsonl');
      const line = (seq: number, id: number) => JSON.stringify({ seq, id, level: 'info', message: `m${seq}`, time: '2026-01-01T00:00:00Z', target: 'h:443', clientIp: '127.0.0.2', extra: 1 });
      writeFileSync(file, `${line(1, 101)}\n${line(2, 103)}\n\n${line(3, 107)}\n${line(4, 103).slice(0, 20)}`);
      const events = readEventLogFile(file);
      expect(events.map((e) => [e.seq, e.id])).toEqual([[1, 101], [2, 103], [3, 107]]);
      expect(events[1]).toEqual({ seq: 2, id: 103, message: 'm2', time: '2026-01-01T00:00:00Z', target: 'h:443', clientIp: '127.0.0.2' });
      expect(countEventIds(events)).toEqual({ '101': 1, '103': 1, '107': 1 });
      expect(readEventLogFile(join(dir, 'missing.jsonl'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('allows the workspace hosts and the Linux agent-service host, maps them to the cloud and logs events to the file', () => {
    const args = labGatewayArgs({ hostMapEntries: () => ['ws.oms.opinsights.azure.com=127.0.0.1:4000'] }, 'ws', '/tmp/e.jsonl');
    expect(args).toEqual([
      '--allow-host', 'ws.oms.opinsights.azure.com',
      '--allow-host', 'ws.ods.opinsights.azure.com',
      '--allow-host', 'scus-agentservice-prod-1.azure-automation.net',
      '--host-map', 'ws.oms.opinsights.azure.com=127.0.0.1:4000',
      '--event-log', '/tmp/e.jsonl',
    ]);
  });
});
