import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../lib/errors.js';
import { adminTarget, DEFAULT_ADMIN_URL, parseTimeoutFlag } from '../../gateway/cli/admin-client.js';
import { ApiTarget } from './api-target.js';
import { DirTarget } from './dir-target.js';

/** The two lists a gateway keeps: allowed server hosts and allowed client-certificate subjects. */
export type ListName = 'hosts' | 'subjects';

export interface ListEditResult {
  /** The entries that were added or removed (empty: nothing to do). */
  changed: string[];
  /** One line for a person: what happened, and when it takes effect. */
  message: string;
}

export interface SettingsView {
  /** Settings as they are in force (API) or saved (files); credentials masked. */
  settings: Record<string, unknown>;
  /** Settings saved but not in force, key → the saved value (masked): applied on reload or restart. */
  pending: Record<string, { saved: unknown; when: 'reload' | 'restart' }>;
}

export interface RelayView {
  address: string;
  username: string | null;
  hasPassword: boolean;
}

/**
 * What a management command acts on: a running gateway (its management API) or a gateway folder
 * (its files). Each command is written once against this interface; each implementation decides
 * how a change becomes a transaction and what the person is told about when it takes effect.
 */
export interface ManagementTarget {
  readonly kind: 'api' | 'dir';
  list(list: ListName): Promise<readonly string[]>;
  edit(list: ListName, op: 'add' | 'remove', value: string): Promise<ListEditResult>;
  settings(): Promise<SettingsView>;
  /** Sets one setting (`null` = unset); returns the line to print. */
  set(key: string, value: unknown): Promise<string>;
  relayProxy(): Promise<RelayView | null>;
}

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
