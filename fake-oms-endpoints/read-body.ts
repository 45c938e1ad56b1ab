import type * as http from 'node:http';

/**
 * A request's whole body, or undefined when it is larger than `maxBytes` (the rest is still read, so
 * an answer can follow). Rejects when the client goes away before the end.
 *
 * With a Content-Length within the limit (how every agent uploads) the chunks are copied into one
 * buffer of that size as they come: no list of chunks to join, no async iterator per request.
 * node's parser delivers exactly Content-Length bytes; a chunked body is joined at the end.
 */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'] === undefined ? NaN : Number(req.headers['content-length']);
    const exact = Number.isSafeInteger(declared) && declared >= 0 && declared <= maxBytes ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let ended = false;
    req.on('data', (c: Buffer) => {
      if (exact && size + c.length <= exact.length) c.copy(exact, size);
      else if (!exact && size + c.length <= maxBytes) chunks.push(c);
      else over = true;
      size += c.length;
    });
    req.once('end', () => {
      ended = true;
      if (over || size > maxBytes) resolve(undefined);
      else if (exact) resolve(size === exact.length ? exact : exact.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(new Error('the client closed the connection before the end of the request body'));
    });
  });
}
