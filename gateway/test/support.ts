/** Shared helpers for the gateway tests: loopback servers, raw CONNECT clients, certificates, polling. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { existsSync } from 'node:fs';
import { cliPath } from '../../lib/paths.js';
import type { Gateway, GatewayEvent } from '../index.js';
import { spawnGateway, type GatewayProcess } from '../process.js';

export const OPENSSL = '/usr/bin/openssl';

export function tempDir(prefix = 'omsgw-gw-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A self-signed EC certificate for `host` (fast to make). */
export function makeServerCert(host: string): { key: Buffer; cert: Buffer } {
  const { dir, cleanup } = tempDir('omsgw-gw-cert-');
  try {
    execFileSync(
      OPENSSL,
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  } finally {
    cleanup();
  }
}

export interface TestServer {
  port: number;
  close(): Promise<void>;
}

/** Closes a server and every socket it accepted. */
function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** TLS server that echoes what it receives, prefixed once with "echo:". */
export async function startTlsEcho(cert: { key: Buffer; cert: Buffer }, options: tls.TlsOptions = {}): Promise<TestServer> {
  const server = tls.createServer({ ...cert, ...options }, (s) => {
    s.on('error', () => undefined);
    s.write('echo:');
    s.pipe(s);
  });
  const sockets = track(server);
  const port = await listen(server);
  return { port, close: closer(server, sockets) };
}

/** Plain TCP server that echoes bytes back and records what it got. */
export async function startTcpEcho(): Promise<TestServer & { received: () => Buffer }> {
  const chunks: Buffer[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (c) => chunks.push(c));
    s.pipe(s);
  });
  const sockets = track(server);
  const port = await listen(server);
  return { port, close: closer(server, sockets), received: () => Buffer.concat(chunks) };
}

/** Accepts connections and never answers (an upstream or relay that hangs). */
export async function startSilentServer(): Promise<TestServer> {
  const server = net.createServer((s) => s.on('error', () => undefined));
  const sockets = track(server);
  const port = await listen(server);
  return { port, close: closer(server, sockets) };
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return port;
}

export interface RawReply {
  status: number;
  head: string;
  body: string;
  socket: net.Socket;
}

/**
 * Sends raw bytes to the proxy and reads the reply head (and the body by Content-Length).
 * The socket stays open for tunnel tests; the caller ends it.
 */
export function rawRequest(port: number, request: string | Buffer, opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply within ${opts.timeoutMs ?? 5000} ms; got ${JSON.stringify(buf.toString('latin1'))}`));
    }, opts.timeoutMs ?? 5000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => socket.write(request));
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.pause();
      const rest = buf.subarray(end + 4 + len);
      if (rest.length) socket.unshift(rest);
      resolve({ status: Number(head.split(' ')[1]), head, body: buf.subarray(end + 4, end + 4 + len).toString('utf8'), socket });
    };
    socket.on('data', onData);
  });
}

export function connectRequest(authority: string, headers: Record<string, string> = {}): string {
  let s = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  return s + '\r\n';
}

/** Reads from a socket until `expected` bytes arrived. */
export function readBytes(socket: net.Socket | tls.TLSSocket, expected: number, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`read ${buf.length}/${expected} bytes before timeout: ${JSON.stringify(buf.toString())}`)), timeoutMs);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= expected) {
        clearTimeout(timer);
        socket.removeListener('data', onData);
        resolve(buf);
      }
    };
    socket.on('data', onData);
    socket.resume();
  });
}

/** Waits for the socket to be closed by the other side. */
export function closed(socket: net.Socket, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error('socket not closed in time')), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function eventsOf(gw: Gateway, since = 0): GatewayEvent[] {
  return gw.events.list({ since });
}

/** ids of a connection's events in order. */
export function idsFor(gw: Gateway, connectionId: number): number[] {
  return gw.events.list().filter((e) => e.connectionId === connectionId).map((e) => e.id);
}

/** Opens a TLS session through the proxy (CONNECT then TLS on the same socket). */
export async function tlsThroughProxy(
  proxyPort: number,
  authority: string,
  servername: string,
  ca: Buffer,
  opts: { localAddress?: string; headers?: Record<string, string>; tls?: tls.ConnectionOptions } = {},
): Promise<tls.TLSSocket> {
  const reply = await rawRequest(proxyPort, connectRequest(authority, opts.headers), { localAddress: opts.localAddress });
  if (reply.status !== 200) throw new Error(`CONNECT ${authority} answered ${reply.status}: ${reply.body}`);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: reply.socket, servername, ca, ...opts.tls }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Gateway child processes (dist/cli/omsgw.js) and a fresh folder for each test; what a test spawns is stopped after it. */
export interface GatewayProcessesPerTest {
  /** This test's folder (new for each test, removed after it). */
  readonly dir: string;
  spawn(args: string[]): Promise<GatewayProcess>;
  /** The test stops `child` itself (to check how it exits): it is no longer stopped after the test. */
  release(child: GatewayProcess): void;
}

/** Registers the hooks: the built CLI must exist (beforeAll); a folder per test; every child stopped after each test. */
export function gatewayProcessesPerTest(): GatewayProcessesPerTest {
  let work: ReturnType<typeof tempDir> | undefined;
  const children: GatewayProcess[] = [];
  beforeAll(() => {
    if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run npx tsc -p tsconfig.build.json first`);
  });
  beforeEach(() => {
    work = tempDir();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
    work?.cleanup();
  });
  return {
    get dir() {
      if (!work) throw new Error('gatewayProcessesPerTest().dir is only there inside a test');
      return work.dir;
    },
    async spawn(args) {
      const child = await spawnGateway(args);
      children.push(child);
      return child;
    },
    release(child) {
      children.splice(children.indexOf(child), 1);
    },
  };
}
