import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generateBenchCerts } from '../../harness/certs.js';
import { openTlsTunnel, sendConnect, TunnelError, withDeadline } from '../connect/index.js';

/** A loopback "proxy" that answers each connection with `reply(head)` once it has read a full CONNECT head. */
async function fakeProxy(reply: (head: string, socket: net.Socket) => void): Promise<{ port: number; heads: string[]; close: () => Promise<void> }> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && !heads.includes(buf)) {
        heads.push(buf.slice(0, end));
        reply(buf.slice(0, end), s);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('sendConnect (lib/connect)', () => {
  test('writes CONNECT with Host and the extra headers, from the chosen source address, and hands back status, reason, headers and the bytes after the head', async () => {
    let peer = '';
    const proxy = await fakeProxy((_h, s) => {
      peer = s.remoteAddress!;
      s.write('HTTP/1.1 403 Forbidden\r\nRetry-After: 7\r\nX-A: b\r\n\r\nnot allowed');
    });
    try {
      const t = await sendConnect({ proxy: { host: '127.0.0.1', port: proxy.port }, authority: 'a.example:443', localAddress: '127.0.0.9', headers: { 'Proxy-Authorization': 'Basic eDp5' }, timeoutMs: 5000 });
      t.socket.destroy();
      expect(proxy.heads).toEqual(['CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nProxy-Authorization: Basic eDp5']);
      expect(peer).toBe('127.0.0.9');
      expect(t).toMatchObject({ status: 403, statusText: 'Forbidden', statusLine: 'HTTP/1.1 403 Forbidden', headers: { 'retry-after': '7', 'x-a': 'b' } });
      expect(t.rest.toString()).toBe('not allowed');
    } finally {
      await proxy.close();
    }
  });

  test('an answer that is not HTTP resolves with status null and the line as sent', async () => {
    const proxy = await fakeProxy((_h, s) => s.write('SSH-2.0-x\r\n\r\n'));
    try {
      const t = await sendConnect({ proxy: { host: '127.0.0.1', port: proxy.port }, authority: 'a.example:443', timeoutMs: 5000 });
      t.socket.destroy();
      expect(t).toMatchObject({ status: null, statusLine: 'SSH-2.0-x' });
    } finally {
      await proxy.close();
    }
  });

  test('a close before any answer rejects with phase connect, failure closed; a refused TCP connect with phase tcp and the errno code', async () => {
    const proxy = await fakeProxy((_h, s) => s.destroy());
    try {
      const err = await sendConnect({ proxy: { host: '127.0.0.1', port: proxy.port }, authority: 'a.example:443', timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TunnelError);
      expect(err).toMatchObject({ phase: 'connect', failure: 'closed' });
    } finally {
      await proxy.close();
    }
    const refused = await sendConnect({ proxy: { host: '127.0.0.1', port: proxy.port }, authority: 'a.example:443', timeoutMs: 5000 }).catch((e: TunnelError) => e);
    expect(refused).toMatchObject({ phase: 'tcp', failure: 'error', code: 'ECONNREFUSED' });
  });

  test('a proxy that never answers: the deadline rejects naming the step, and the socket is closed (the proxy sees the close)', async () => {
    let closedByClient!: Promise<void>;
    const proxy = await fakeProxy((_h, s) => {
      closedByClient = new Promise((r) => s.once('close', () => r()));
    });
    try {
      const err = await sendConnect({ proxy: { host: '127.0.0.1', port: proxy.port }, authority: 'slow.example:443', timeoutMs: 150 }).catch((e: TunnelError) => e);
      expect(err).toMatchObject({ phase: 'connect', failure: 'timeout', message: 'the answer to CONNECT slow.example:443 took longer than 150 ms' });
      await closedByClient;
    } finally {
      await proxy.close();
    }
  });
});

describe('withDeadline', () => {
  test('only the first outcome counts; failure hooks run once on rejection and never on success', async () => {
    const fails: string[] = [];
    const ok = await withDeadline<number>({ timeoutMs: 10_000, onTimeout: (s) => s.reject(new Error('late')) }, (s) => {
      s.onFail(() => fails.push('a'));
      s.resolve(1);
      s.resolve(2);
      s.reject(new Error('ignored'));
    });
    expect(ok).toBe(1);
    expect(fails).toEqual([]);
    const settled: string[] = [];
    const err = await withDeadline<number>({ timeoutMs: 10_000, onTimeout: (s) => s.reject(new Error('late')) }, (s) => {
      s.onFail(() => fails.push('b'));
      s.onSettled(() => settled.push('b'));
      s.reject(new Error('first'));
      s.reject(new Error('second'));
      s.resolve(3);
    }).catch((e: Error) => e.message);
    expect(err).toBe('first');
    expect(fails).toEqual(['b']);
    expect(settled).toEqual(['b']);
  });

  test('an abort signal settles through onAbort, also when already aborted; a throw in the work rejects', async () => {
    const ac = new AbortController();
    const p = withDeadline<string>({ timeoutMs: 10_000, onTimeout: (s) => s.resolve('timeout'), signal: ac.signal, onAbort: (s) => s.resolve('aborted') }, () => undefined);
    ac.abort();
    await expect(p).resolves.toBe('aborted');
    await expect(withDeadline<string>({ timeoutMs: 10_000, onTimeout: (s) => s.resolve('timeout'), signal: ac.signal, onAbort: (s) => s.resolve('aborted early') }, () => undefined)).resolves.toBe('aborted early');
    await expect(withDeadline<string>({ timeoutMs: 10_000, onTimeout: (s) => s.resolve('timeout') }, () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
  });
});

describe('openTlsTunnel leafOnlyIdentityCheck (lib/connect)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-connect-leaf-'));
  // The bench's client certificate serves here: CN is a host-name-like workspace id and there is no
  // subjectAltName, so node's identity check compares the host with the CN.
  const host = '00000000-0000-4000-8000-0000000c0de1';
  const certs = generateBenchCerts(dir, 'ec', host);
  let server: tls.Server;
  let port = 0;
  beforeAll(async () => {
    server = tls.createServer({ cert: certs.clientCert, key: certs.clientKey }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (checkHost: string, seen: tls.PeerCertificate[], leafOnlyIdentityCheck: boolean) =>
    openTlsTunnel(
      { direct: { host: '127.0.0.1', port }, authority: `${checkHost}:443`, timeoutMs: 5000, leafOnlyIdentityCheck },
      { ca: certs.clientCert, servername: 'localhost', checkServerIdentity: (_n, cert) => (seen.push(cert), tls.checkServerIdentity(checkHost, cert)) },
    );

  test('the identity check gets the leaf certificate alone, still refuses a wrong host, and the socket is normal afterwards', async () => {
    const leaf: tls.PeerCertificate[] = [];
    const t = await open(host, leaf, true);
    expect(leaf[0]!.subject.CN).toBe(host);
    // The detailed form node would build carries the issuer chain; the leaf-only form does not.
    expect((leaf[0] as tls.DetailedPeerCertificate).issuerCertificate).toBeUndefined();
    expect(t.socket.getPeerCertificate(true).issuerCertificate.subject.CN).toBe(host);
    t.socket.destroy();

    const detailed: tls.PeerCertificate[] = [];
    (await open(host, detailed, false)).socket.destroy();
    expect((detailed[0] as tls.DetailedPeerCertificate).issuerCertificate.subject.CN).toBe(host);

    const err = await open('ws.ods.opinsights.azure.com', [], true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TunnelError);
    expect(err).toMatchObject({ phase: 'tls', failure: 'error', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});
