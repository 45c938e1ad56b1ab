import { InputError } from '../../lib/errors.js';
import { adminFetch, type AdminTarget } from '../../gateway/cli/admin-client.js';
import type { GatewayEvent } from '../../gateway/events/event-log.js';

/** Follows GET /api/events/stream (server-sent events) until the gateway closes it. */
export async function followEventStream(api: AdminTarget, query: URLSearchParams, onEvent: (e: GatewayEvent) => void): Promise<void> {
  const path = `/api/events/stream?${query}`;
  const res = await adminFetch(api, 'GET', path, { accept: 'text/event-stream' });
  if (!res.ok || !res.body) throw new InputError(`GET ${path}: ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        // Only gateway events: the stream also says hello (which process) and marks gaps.
        const type = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        if (type !== 'gateway-event' && type !== 'message') continue;
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (data) onEvent(JSON.parse(data) as GatewayEvent);
      }
    }
  } catch (err) {
    // the gateway stopping mid-stream ends the follow like a closed stream does
    if ((err as Error).name !== 'TypeError' && (err as NodeJS.ErrnoException).code !== 'UND_ERR_SOCKET') throw err;
  }
}
