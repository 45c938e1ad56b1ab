/** What management commands act on, as types only (the implementations import these; target.ts picks one). */

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
