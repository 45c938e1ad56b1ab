import type { SectionDef } from '../types.js';

export const SECTIONS: SectionDef[] = [
  { id: 1, key: 'connect-only', title: 'CONNECT only' },
  { id: 2, key: 'port-443', title: 'Target port 443 only' },
  { id: 3, key: 'ip-literals', title: 'IP literals' },
  { id: 4, key: 'malformed-authority', title: 'Malformed authorities' },
  { id: 5, key: 'allowlist', title: 'Server allowlist' },
  { id: 6, key: 'request-limits', title: 'Request limits' },
  { id: 7, key: 'proxy-auth', title: 'Proxy authentication' },
  { id: 8, key: 'relay', title: 'Relay chaining' },
  { id: 9, key: 'tls', title: 'TLS inspection on the wire' },
  { id: 10, key: 'tunnel', title: 'Tunnel behaviour' },
  { id: 11, key: 'config-changes', title: 'Allowlist changes (management API)' },
  { id: 12, key: 'events-counters', title: 'Events and counters after each section (management API)' },
];
