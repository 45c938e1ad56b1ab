import { collectLinux, linuxHeartbeatRow } from '../linux-agent/index.js';
import { collectWindows } from '../windows-agent/index.js';
import { createIdentity, fakerFor } from '../agent-core/identity.js';
import { Ledger, itemBytes, itemJson } from '../agent-core/ledger.js';
import { dataItemsBody, RECORD_ID_FIELD } from '../agent-core/requests.js';

const volume = { perfSamples: 10, logRows: 20, messageBytes: 300 };

describe('the PostJsonDataItems body built from each record\'s JSON bytes made once', () => {
  test('is byte for byte what JSON.stringify of the items with their record ids gives', () => {
    const ledger = new Ledger({ agentGuid: 'a1b2', queueLimit: 1000, now: () => 0 });
    const id = createIdentity('linux', 7, 1);
    const recs = [...collectLinux({ identity: id, faker: fakerFor(7, 1, 1, 1), now: 1_700_000_000_000, volume }), linuxHeartbeatRow({ identity: id, faker: fakerFor(7, 1, 1, 2), now: 1_700_000_000_000, volume })];
    const created = recs.map((r) => ledger.create(r.dataType, r.item, r.json));
    // An empty item too (a record id alone), and text that needs escaping.
    created.push(ledger.create('LINUX_SYSLOGS_BLOB', {}), ledger.create('LINUX_SYSLOGS_BLOB', { Message: 'quote " backslash \\ newline \n ünïcode' }));
    const syslog = created.filter((r) => r.dataType === 'LINUX_SYSLOGS_BLOB');
    expect(syslog.length).toBe(22);
    const expected = JSON.stringify({ DataType: 'LINUX_SYSLOGS_BLOB', IPName: 'LogManagement', DataItems: syslog.map((r) => ({ ...r.item, [RECORD_ID_FIELD]: r.id })) });
    const body = dataItemsBody('LINUX_SYSLOGS_BLOB', syslog);
    expect(body.toString('utf8')).toBe(expected);
    expect(body.equals(Buffer.from(expected))).toBe(true);
    // A batch of one, an empty item alone, and an escaped non-ASCII item last.
    for (const one of [syslog.slice(0, 1), syslog.slice(20, 21), syslog.slice(21)]) {
      const want = JSON.stringify({ DataType: 'LINUX_SYSLOGS_BLOB', IPName: 'LogManagement', DataItems: one.map((r) => ({ ...r.item, [RECORD_ID_FIELD]: r.id })) });
      expect(dataItemsBody('LINUX_SYSLOGS_BLOB', one).toString('utf8')).toBe(want);
    }
    // Serialized and measured once: the cached text is the one used, its byte count is UTF-8's, and both go with the item.
    const last = syslog[21]!;
    expect(last.itemJson).toBe(itemJson(last));
    expect(itemBytes(last)).toBe(Buffer.byteLength(JSON.stringify(last.item)));
    expect(dataItemsBody('LINUX_SYSLOGS_BLOB', []).toString('utf8')).toBe('{"DataType":"LINUX_SYSLOGS_BLOB","IPName":"LogManagement","DataItems":[]}');
    ledger.markSent(syslog);
    ledger.acknowledge(syslog);
    expect(syslog.every((r) => r.item === undefined && r.itemJson === undefined)).toBe(true);
  });

  test('each log row carries its JSON text, equal to JSON.stringify of its item, for both agents and any message length', () => {
    for (const messageBytes of [0, 7, 300, 1000]) {
      const v = { perfSamples: 3, logRows: 40, messageBytes };
      const linux = collectLinux({ identity: createIdentity('linux', 5, 1), faker: fakerFor(5, 1, 1, messageBytes), now: 1_700_000_000_123, volume: v });
      const noIp = collectLinux({ identity: { ...createIdentity('linux', 5, 2), privateIps: [] }, faker: fakerFor(5, 2, 1, messageBytes), now: 0, volume: v });
      const windows = collectWindows({ identity: createIdentity('windows', 5, 3), faker: fakerFor(5, 3, 1, messageBytes), now: 1_700_000_000_123, volume: v });
      const rows = [...linux, ...noIp, ...windows].filter((r) => r.json !== undefined);
      expect(rows.length).toBe(120);
      for (const r of rows) expect(r.json).toBe(JSON.stringify(r.item));
      expect(noIp.find((r) => r.json)!.item).not.toHaveProperty('HostIP', expect.anything());
    }
  });

  test('log text comes from the pool: the same seed gives the same records, another seed others; every text a sentence padded to size', () => {
    const id = createIdentity('windows', 3, 2);
    const one = collectWindows({ identity: id, faker: fakerFor(3, 2, 1, 5), now: 0, volume });
    const again = collectWindows({ identity: id, faker: fakerFor(3, 2, 1, 5), now: 0, volume });
    const other = collectWindows({ identity: id, faker: fakerFor(3, 2, 1, 6), now: 0, volume });
    expect(again).toEqual(one);
    expect(other).not.toEqual(one);
    const texts = one.filter((r) => r.dataType === 'GENERIC_EVENT_BLOB').map((r) => String(r.item.RenderedDescription));
    expect(texts.every((t) => t.length === 300 && /^[A-Z][a-z]/.test(t))).toBe(true);
    expect(new Set(texts).size).toBeGreaterThan(15);
  });
});
