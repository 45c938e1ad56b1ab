/** The real "OMS Gateway Log" event IDs and their levels (DESIGN.md section 2). */
export type EventLevel = 'info' | 'warning' | 'error' | 'debug';

export const EVENT_LEVELS = {
  100: 'info', // general information
  101: 'info', // service started
  102: 'info', // service stopped
  103: 'info', // Got request from <ip>:<port>: CONNECT <host>:<port>
  104: 'warning', // not a CONNECT request (and other refusals before a tunnel; see statuses.ts)
  105: 'warning', // target host or port forbidden, invalid client certificate
  106: 'warning', // unsupported TLS version
  107: 'info', // TLS session successfully verified
  200: 'debug', // debug detail
  300: 'warning', // agent-related problem
  400: 'error', // unexpected error
  401: 'error', // bad configuration
  402: 'error', // TLS handshake parse error
  403: 'error', // networking error
} as const satisfies Record<number, EventLevel>;

export type EventId = keyof typeof EVENT_LEVELS;

export const EVENT_IDS = Object.keys(EVENT_LEVELS).map(Number) as EventId[];

export function isEventId(n: number): n is EventId {
  return Object.prototype.hasOwnProperty.call(EVENT_LEVELS, n);
}
