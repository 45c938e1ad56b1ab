/** readBody: the whole body with or without Content-Length, undefined over the limit, a rejection when the client leaves early. */
import * as http from 'node:http';
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readBody } from '../read-body.js';

const LIMIT = 64 * 1024;
let server: http.Server;
let port: number;
/** What readBody gave for each request, in arrival order. */
interface Outcome {
  body?: Buffer;
  error?: string;
}
const outcomes: Array<Promise<Outcome>> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const outcome: Promise<Outcome> = readBody(req, LIMIT).then(
      (body) => ({ body }),
      (err: Error) => ({ error: err.message }),
    );
    outcomes.push(outcome);
    void outcome.then((o) => res.end(o.body ? String(o.body.length) : 'none'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => outcomes.splice(0));

/** Sends `body` in pieces, with Content-Length or chunked; resolves with the answer's text. */
function post(body: Buffer, framing: 'length' | 'chunked', pieces = 7): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: framing === 'length' ? { 'content-length': body.length } : { 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.once('error', reject);
    const step = Math.ceil(body.length / pieces) || 1;
    for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
    req.end();
  });
}

test.each(['length', 'chunked'] as const)('%s: every byte, in order, for an empty, a small and a multi-chunk body', async (framing) => {
  for (const size of [0, 10, 50_000]) {
    const body = randomBytes(size);
    expect(await post(body, framing)).toBe(String(size));
    const got = await outcomes[outcomes.length - 1];
    expect(got.error).toBeUndefined();
    expect(got.body!.equals(body)).toBe(true);
  }
});

test.each(['length', 'chunked'] as const)('%s: one byte over the limit gives undefined (after reading it all); at the limit the body', async (framing) => {
  expect(await post(randomBytes(LIMIT + 1), framing)).toBe('none');
  expect(await outcomes[0]).toEqual({ body: undefined });
  const exact = randomBytes(LIMIT);
  expect(await post(exact, framing)).toBe(String(LIMIT));
  expect((await outcomes[1]).body!.equals(exact)).toBe(true);
});

test('a client that closes before the end of its body: readBody rejects', async () => {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n' + 'a'.repeat(100));
  while (outcomes.length === 0) await new Promise((r) => setImmediate(r));
  s.destroy();
  expect(await outcomes[0]).toEqual({ error: expect.stringMatching(/closed the connection before the end of the request body|aborted/) });
});
