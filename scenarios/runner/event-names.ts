/** Short meanings of gateway event ids for the timeline (DESIGN.md section 2). */
const MEANINGS: Record<number, string> = {
  100: 'information',
  101: 'service started',
  102: 'service stopped',
  103: 'CONNECT received',
  104: 'not a CONNECT request',
  105: 'target forbidden',
  106: 'unsupported TLS version',
  107: 'TLS session verified',
  200: 'debug',
  300: 'agent problem',
  400: 'unexpected error',
  401: 'bad configuration',
  402: 'TLS parse error',
  403: 'networking error',
};

export function eventMeaning(id: number, message = ''): string {
  if (id === 105 && /client certificate/i.test(message)) return 'client certificate refused';
  if (id === 105 && /port/i.test(message) && !/host/i.test(message)) return 'target port forbidden';
  if (id === 105 && /sni/i.test(message)) return 'SNI does not match target';
  return MEANINGS[id] ?? 'event';
}
