import type { Clock } from '../../lib/clock.js';
import type { IngestionLedger } from '../ledger.js';
import { DEFAULT_AMA_SETTINGS, applyAmaSettings, type AmaSettings } from './settings.js';

/** A machine the handler has served, by managed-identity principal (the ledger's agent id). */
export interface AmaMachineSeen {
  principalId: string;
  resourceId: string;
  workspaceId?: string;
  configFetches: number;
  tokensIssued: number;
  lastSeenAt: string;
}

/** Everything the AMA endpoints share: settings, the token key, machines seen. */
export class AmaState {
  settings: AmaSettings;
  private readonly seen = new Map<string, AmaMachineSeen>();
  /** Set when the lab CA is loaded (cloud start). */
  key?: Buffer;

  constructor(initial: unknown, readonly ledger: IngestionLedger, readonly clock: Clock, readonly keyOf: (ws: string) => string | undefined) {
    this.settings = initial === undefined ? { ...DEFAULT_AMA_SETTINGS } : applyAmaSettings(DEFAULT_AMA_SETTINGS, initial);
  }

  update(change: unknown): AmaSettings {
    this.settings = applyAmaSettings(this.settings, change);
    return this.settings;
  }

  machine(principalId: string, resourceId: string): AmaMachineSeen {
    let m = this.seen.get(principalId);
    if (!m) {
      m = { principalId, resourceId, configFetches: 0, tokensIssued: 0, lastSeenAt: '' };
      this.seen.set(principalId, m);
    }
    m.lastSeenAt = new Date(this.clock.now()).toISOString();
    return m;
  }

  machines(): AmaMachineSeen[] {
    return [...this.seen.values()].map((m) => ({ ...m }));
  }
}
