import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { adminTarget, DEFAULT_ADMIN_URL, parseTimeoutFlag } from '../../gateway/cli/admin-client.js';
import { ApiTarget } from './api-target.js';
import { DirTarget } from './dir-target.js';

export type { ListEditResult, ListName, ManagementTarget, RelayView, SettingsView } from './target-types.js';
import type { ManagementTarget } from './target-types.js';

export type TargetFlags = { admin?: string; token?: string; dir?: string; timeout?: string };

/** `flags` are a command's options as commander hands them over (withTargetOptions added these). */
export function targetFromFlags(options: object): ManagementTarget {
  const flags = options as TargetFlags;
  if (flags.dir !== undefined && flags.admin !== undefined) throw new InputError('give either --admin <url> (a running gateway) or --dir <folder> (its files), not both');
  const timeoutMs = parseTimeoutFlag(flags.timeout);
  if (flags.dir !== undefined) {
    const dir = resolve(flags.dir);
    if (!existsSync(dir)) throw new InputError(`--dir ${flags.dir} does not exist`);
    if (!statSync(dir).isDirectory()) throw new InputError(`--dir ${flags.dir} is not a folder`);
    return new DirTarget(dir, timeoutMs);
  }
  return new ApiTarget(adminTarget(flags));
}

export const TIMEOUT_HELP = 'give up after this many seconds (default 10); exit code 2';

/** --timeout for every command that talks to a gateway. */
export function withTimeoutOption<T extends Command<any, any, any>>(cmd: T): T {
  return cmd.option('--timeout <seconds>', TIMEOUT_HELP) as T;
}

export function withTargetOptions<T extends Command<any, any, any>>(cmd: T): T {
  return withTimeoutOption(
    cmd
      .option('--admin <url>', `management API of a running gateway (default ${DEFAULT_ADMIN_URL} or $OMSGW_ADMIN_URL)`)
      .option('--token <token>', 'admin token (or $OMSGW_ADMIN_TOKEN)')
      .option('--dir <folder>', 'edit the files in this gateway folder instead (see each command for when a running gateway applies it)') as T,
  );
}
