import { InputError } from '../../lib/errors.js';
import { adminRequest, type AdminTarget } from '../../gateway/cli/admin-client.js';
import type { ListEditResult, ListName, ManagementTarget, RelayView, SettingsView } from './target-types.js';

const PATH: Record<ListName, string> = { hosts: '/api/allowlist/hosts', subjects: '/api/allowlist/client-certificates' };
const BODY_KEY: Record<ListName, string> = { hosts: 'host', subjects: 'subject' };

interface ConfigAnswer {
  config: Record<string, unknown>;
  pending?: { settings?: Record<string, { saved: unknown; when: 'reload' | 'restart' }> };
  relayProxy: { address: string; username: string | null; password: string | null } | null;
}

/** A running gateway's management API: each change is applied (and saved) by the gateway as one transaction. */
export class ApiTarget implements ManagementTarget {
  readonly kind = 'api';
  constructor(readonly api: AdminTarget) {}

  async list(list: ListName): Promise<readonly string[]> {
    const r = await adminRequest<{ hosts?: string[]; subjects?: string[] }>(this.api, 'GET', PATH[list]);
    return (list === 'subjects' ? r.subjects : r.hosts) ?? [];
  }

  async edit(list: ListName, op: 'add' | 'remove', value: string): Promise<ListEditResult> {
    const r = await adminRequest<{ changed: string[]; persisted: boolean; file?: string }>(this.api, op === 'add' ? 'POST' : 'DELETE', PATH[list], { [BODY_KEY[list]]: value });
    if (r.changed.length === 0) {
      if (op === 'remove') throw new InputError(`${value} is not in the list of the gateway at ${this.api.url}; nothing was changed`);
      return { changed: [], message: `${value} was already allowed` };
    }
    const saved = r.persisted ? `; saved in ${r.file}` : ' (not saved: the gateway has no allowlist file)';
    return { changed: r.changed, message: `${op === 'add' ? 'added' : 'removed'} ${value}: applies to new connections now${saved}` };
  }

  async settings(): Promise<SettingsView> {
    const r = await adminRequest<ConfigAnswer>(this.api, 'GET', '/api/config');
    return { settings: r.config, pending: r.pending?.settings ?? {} };
  }

  async set(key: string, value: unknown): Promise<string> {
    const r = await adminRequest<{ applied: string[] }>(this.api, 'PUT', '/api/config', { [key]: value });
    if (!r.applied.includes(key)) throw new InputError(`the gateway did not apply ${key}`);
    return `${key} applied: new connections use it now`;
  }

  async relayProxy(): Promise<RelayView | null> {
    const r = await adminRequest<ConfigAnswer>(this.api, 'GET', '/api/config');
    return r.relayProxy ? { address: r.relayProxy.address, username: r.relayProxy.username, hasPassword: r.relayProxy.password !== null } : null;
  }
}
