import { readFileSync, writeFileSync } from 'node:fs';
import type { CaseDef } from '../types.js';
import { SUFFIX } from '../hosts.js';
import { connectHead, expectRefused, expectTunnel, fail, notObservable, pass } from '../checks.js';
import { AdminClient } from '../admin.js';
import { SRC } from './sources.js';

const LATE_HOST = `late.${SUFFIX}`;

/** Section 11: an allowlist edit changes nothing until the gateway restarts or reloads. */
export const CONFIG_CHANGE_CASES: CaseDef[] = [
  {
    id: '11.1', section: 11, source: `${SRC.restart}; ${SRC.field2016}`,
    behaviour: 'a host added to the allowlist file is refused until a reload, tunnelled after it, refused again once removed and reloaded',
    observed: `${LATE_HOST}: 403 before the edit, 403 after the edit, 2xx after POST /api/reload, 403 after the file is restored and reloaded`,
    run: async (ctx) => {
      if (!ctx.options.admin) return notObservable('needs --admin (the omsgw management API) to find the allowlist file and reload');
      const admin = new AdminClient(ctx.options.admin);
      const file = (await admin.config()).allowlistFile;
      if (!file) return notObservable('the gateway under test has no allowlist file (allowlistFile in GET /api/config)');
      let original: string;
      try {
        original = readFileSync(file, 'utf8');
      } catch (err) {
        return notObservable(`cannot read the gateway's allowlist file ${file} from here (${(err as NodeJS.ErrnoException).code})`);
      }
      const refused = () => expectRefused(ctx, connectHead(ctx, `${LATE_HOST}:443`), { expected: 'refused (403)' });
      const steps: string[] = [];
      const before = await refused();
      if (before.status !== 'pass') return fail('403 before the edit', before.status === 'fail' ? before.seen : 'n/a');
      try {
        writeFileSync(file, `${original.replace(/\n?$/, '\n')}${LATE_HOST}\n`);
        const edited = await refused();
        if (edited.status !== 'pass') return fail('still 403 after the file edit, before any reload (the product applies edits on restart)', edited.status === 'fail' ? edited.seen : 'n/a');
        steps.push('403 after the edit');
        await admin.reload();
        const after = await expectTunnel(ctx, `${LATE_HOST}:443`, { servername: LATE_HOST });
        if (after.status !== 'pass') return fail('2xx after POST /api/reload', after.status === 'fail' ? after.seen : 'n/a');
        steps.push('tunnelled after the reload');
      } finally {
        writeFileSync(file, original);
        await admin.reload().catch(() => undefined);
      }
      const restored = await refused();
      if (restored.status !== 'pass') return fail('403 again after restoring the file and reloading', restored.status === 'fail' ? restored.seen : 'n/a');
      steps.push('403 again once restored');
      return pass(`403 before, ${steps.join(', ')}`);
    },
  },
];
