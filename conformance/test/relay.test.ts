import * as net from 'node:net';
import { startLab, type Lab } from './support.js';

jest.setTimeout(30_000);

/** Writes `head` in small pieces, each after the previous one was flushed, so the relay sees it in many chunks. */
async function writeInPieces(socket: net.Socket, head: Buffer, piece = 4096): Promise<void> {
  for (let i = 0; i < head.length; i += piece) {
    await new Promise<void>((resolve, reject) => socket.write(head.subarray(i, i + piece), (err) => (err ? reject(err) : resolve())));
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** What the relay answered (first line) and whether it closed, within 5 s. */
function answer(socket: net.Socket): Promise<{ first: string; closed: boolean }> {
  return new Promise((resolve) => {
    let got = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      resolve({ first: got.split('\r\n')[0], closed });
    };
    const timer = setTimeout(() => done(false), 5000);
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n')) done(false);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

describe('the suite\'s relay sees what a gateway forwards, however large its head', () => {
  let lab: Lab;
  afterEach(async () => lab?.close());

  // Node reads a socket at most 64 KiB at a time, so a 300 KiB head reaches the relay in several
  // chunks whatever the writer does: the relay must keep reading past 64 KiB (it used to drop such a
  // head unrecorded, so a gateway forwarding case 6.1's 100 KiB head could pass).
  test('a 300 KiB head is parsed and recorded like any other (case 6.1 can see a gateway forward a big head)', async () => {
    lab = await startLab();
    const socket = await connect(lab.upstreams.ports.relayPort);
    const replied = answer(socket);
    await writeInPieces(socket, Buffer.from(`CONNECT allowed.conformance.test:443 HTTP/1.1\r\nX-Padding: ${'a'.repeat(300 * 1024)}\r\n\r\n`));
    expect((await replied).first).toBe('HTTP/1.1 200 Connection established');
    socket.destroy();
    expect(lab.upstreams.relay.requests.map((r) => r.requestLine)).toEqual(['CONNECT allowed.conformance.test:443 HTTP/1.1']);
  });

  test('a head that never ends within 1 MiB is still recorded before the relay drops it', async () => {
    lab = await startLab();
    const socket = await connect(lab.upstreams.ports.relayPort);
    const replied = answer(socket);
    await writeInPieces(socket, Buffer.from(`CONNECT allowed.conformance.test:443 HTTP/1.1\r\nX-Padding: ${'a'.repeat(1100 * 1024)}`), 64 * 1024).catch(() => undefined);
    expect(await replied).toEqual({ first: '', closed: true });
    expect(lab.upstreams.relay.requests).toEqual([{ requestLine: 'CONNECT allowed.conformance.test:443 HTTP/1.1 (head over 1 MiB, dropped by the relay)', authority: 'allowed.conformance.test:443' }]);
  });
});
