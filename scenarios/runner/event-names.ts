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
  const route = /open via (relay|host map|direct)/i.exec(message);
  if (id === 200 && route) return `tunnel open via ${route[1].toLowerCase()}`;
  if (id === 200 && /tunnel .*closed/i.test(message)) return 'tunnel closed';
  if (id === 104 && /proxy authentication/i.test(message)) return 'proxy authentication failed';
  if (id === 104 && /^bad request/i.test(message)) return 'bad request';
  if (id === 105 && /client certificate/i.test(message)) return 'client certificate refused';
  if (id === 105 && /port/i.test(message) && !/host/i.test(message)) return 'target port forbidden';
  if (id === 105 && /sni/i.test(message)) return 'SNI does not match target';
  return MEANINGS[id] ?? 'event';
}
