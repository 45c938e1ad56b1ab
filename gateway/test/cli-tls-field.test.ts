/** `config get/set tls.<field>`: one field of the TLS policy, as event 106's hint names it, on files and on a live gateway. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayDirPerTest, omsgw } from './cli-support.js';

const work = gatewayDirPerTest();

test('on a live gateway: one field changes, the others stay (a whole tls value would have reset them)', async () => {
  const dir = join(work.dir, 'gw');
  const { gw, admin } = await work.startOn(dir, 'ws7', { tls: { missingSni: 'reject', minVersion: 'TLSv1.2' } as never });
  expect(gw.config.tls).toMatchObject({ missingSni: 'reject', minVersion: 'TLSv1.2' });
  expect(await omsgw('config', 'set', 'tls.minVersion', 'TLSv1.3', '--admin', admin)).toBe('tls applied: new connections use it now\n');
  expect(gw.config.tls).toMatchObject({ missingSni: 'reject', minVersion: 'TLSv1.3' });
  expect(await omsgw('config', 'get', 'tls.minVersion', '--admin', admin)).toBe('TLSv1.3\n');
  // null removes the field, so its default applies again.
  await omsgw('config', 'set', 'tls.missingSni', 'null', '--admin', admin);
  expect(gw.config.tls).toMatchObject({ missingSni: 'allow', minVersion: 'TLSv1.3' });
  // A preset sets the version range: the explicit bounds give way to it.
  await omsgw('config', 'set', 'tls.policy', 'preview-2016', '--admin', admin);
  expect(gw.config.tls).toMatchObject({ minVersion: 'TLSv1', maxVersion: 'TLSv1.2' });
  await expect(omsgw('config', 'set', 'tls.maxVersion', 'TLSv1.4', '--admin', admin)).rejects.toThrow(/tls\.maxVersion: must be one of "TLSv1", "TLSv1\.1", "TLSv1\.2", "TLSv1\.3" \(got "TLSv1\.4"\)/);
  expect(gw.config.tls.maxVersion).toBe('TLSv1.2');
});

test('on files (--dir): the field is saved into the tls object of gateway.json', async () => {
  const dir = join(work.dir, 'gw');
  await omsgw('gateway', 'init', '--workspace', 'ws8', '--dir', dir);
  await omsgw('config', 'set', 'tls', '{"missingSni":"reject"}', '--dir', dir);
  await omsgw('config', 'set', 'tls.minVersion', 'TLSv1.1', '--dir', dir);
  expect(JSON.parse(readFileSync(join(dir, 'gateway.json'), 'utf8')).tls).toMatchObject({ missingSni: 'reject', minVersion: 'TLSv1.1' });
  expect(await omsgw('config', 'get', 'tls.minVersion', '--dir', dir)).toBe('TLSv1.1\n');
});

test.each([
  [['config', 'set', 'tls.minVersoin', 'TLSv1.2'], /"tls\.minVersoin": unknown TLS policy field "minVersoin" \(known: policy, minVersion, maxVersion, /],
  [['config', 'set', 'listenPort.x', '1'], /"listenPort\.x": only the tls setting has fields to set one at a time \(e\.g\. tls\.minVersion\); set listenPort whole/],
  [['config', 'set', 'tsl.minVersion', 'TLSv1.2'], /unknown setting "tsl"/],
  [['config', 'get', 'tls.nothing'], /unknown TLS policy field "nothing"/],
])('%j is refused with what to fix, and nothing is written', async (args, message) => {
  const dir = join(work.dir, 'gw');
  await omsgw('gateway', 'init', '--workspace', 'ws9', '--dir', dir);
  const before = readFileSync(join(dir, 'gateway.json'), 'utf8');
  await expect(omsgw(...args, '--dir', dir)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(message) });
  expect(readFileSync(join(dir, 'gateway.json'), 'utf8')).toBe(before);
});
