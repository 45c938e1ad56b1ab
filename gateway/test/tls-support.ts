/**
 * Test support for the TLS inspection tests: certificates made with openssl in a temp dir, and real
 * Node TLS handshakes recorded (both directions, in arrival order) through a loopback TCP relay.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { TlsInspector, type TlsInspectorOptions } from '../tls/inspector.js';
import { DEFAULT_TLS_POLICY } from '../tls/policy.js';
import type { InspectionOutcome, TlsPolicy } from '../tls/types.js';

export const OPENSSL = '/usr/bin/openssl';
export const SERVER_HOST = 'agents.example.test';
export const ALLOWED_SUBJECT = 'CN=ws-0001, CN=agent-guid-1, OU=Linux Monitoring Agent, O=Microsoft';
export const OTHER_SUBJECT = 'CN=intruder, O=Evil Corp';

export interface KeyPair {
  key: Buffer;
  cert: Buffer;
}

export interface TestCerts {
  dir: string;
  server: KeyPair;
  allowedClient: KeyPair;
  otherClient: KeyPair;
  cleanup(): void;
}

function opensslSubject(commaForm: string): string {
  return '/' + commaForm.split(', ').join('/');
}

function selfSigned(dir: string, name: string, subject: string, extra: string[] = []): KeyPair {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  execFileSync(
    OPENSSL,
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', opensslSubject(subject), ...extra],
    { stdio: 'pipe' },
  );
  return { key: readFileSync(keyPath), cert: readFileSync(certPath) };
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-tls-test-'));
  return {
    dir,
    server: selfSigned(dir, 'server', `CN=${SERVER_HOST}`, ['-addext', `subjectAltName=DNS:${SERVER_HOST}`]),
    allowedClient: selfSigned(dir, 'allowed', ALLOWED_SUBJECT),
    otherClient: selfSigned(dir, 'other', OTHER_SUBJECT),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Segment {
  from: 'client' | 'server';
  data: Buffer;
}

export interface Recording {
  segments: Segment[];
  /** Protocol negotiated as seen by the client ('TLSv1.2', ...) or undefined when the handshake failed. */
  protocol?: string;
  clientError?: string;
  session?: Buffer;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface HandshakeRecorder {
  /** One client connection through the relay; resolves when both relay sockets closed (or after 2 s). */
  connect(clientOptions: tls.ConnectionOptions): Promise<Recording>;
  close(): Promise<void>;
}

/**
 * A tls.Server on 127.0.0.1 behind a recording relay. The server answers "ok" and closes once a
 * handshake is done; every chunk the relay passes is recorded, in order, per connection.
 */
export async function startHandshakeRecorder(serverOptions: tls.TlsOptions): Promise<HandshakeRecorder> {
  const server = tls.createServer(serverOptions, (socket) => {
    socket.on('error', () => undefined);
    socket.end('ok');
  });
  server.on('tlsClientError', () => undefined);
  const serverPort = await listen(server);

  const relaySockets = new Set<net.Socket>();
  let current: { segments: Segment[]; done: () => void } | undefined;
  const relay = net.createServer((downstream) => {
    const connection = current;
    const segments = connection?.segments ?? [];
    const upstream = net.connect(serverPort, '127.0.0.1');
    relaySockets.add(downstream).add(upstream);
    let open = 2;
    const closed = () => {
      if (--open === 0) connection?.done();
    };
    downstream.on('data', (data) => {
      segments.push({ from: 'client', data: Buffer.from(data) });
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      segments.push({ from: 'server', data: Buffer.from(data) });
      downstream.write(data);
    });
    downstream.on('end', () => upstream.end());
    upstream.on('end', () => downstream.end());
    downstream.on('error', () => upstream.destroy());
    upstream.on('error', () => downstream.destroy());
    downstream.on('close', () => {
      relaySockets.delete(downstream);
      upstream.destroy();
      closed();
    });
    upstream.on('close', () => {
      relaySockets.delete(upstream);
      downstream.destroy();
      closed();
    });
  });
  const relayPort = await listen(relay);

  return {
    async connect(clientOptions) {
      const segments: Segment[] = [];
      let done!: () => void;
      const relayClosed = new Promise<void>((resolve) => (done = resolve));
      current = { segments, done };
      const recording: Recording = { segments };
      await new Promise<void>((resolve) => {
        const client = tls.connect({ host: '127.0.0.1', port: relayPort, rejectUnauthorized: false, ...clientOptions });
        client.on('secureConnect', () => {
          recording.protocol = client.getProtocol() ?? undefined;
          recording.session = client.getSession();
        });
        client.on('session', (session) => (recording.session = session));
        client.on('data', () => undefined);
        client.on('end', () => client.end());
        client.on('error', (err) => {
          recording.clientError = err.message;
          client.destroy();
        });
        client.on('close', () => resolve());
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([relayClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      current = undefined;
      return recording;
    },
    async close() {
      for (const s of relaySockets) s.destroy();
      await Promise.all([closeServer(relay), closeServer(server)]);
    },
  };
}

/** One handshake on a fresh server (see startHandshakeRecorder). */
export async function recordHandshake(serverOptions: tls.TlsOptions, clientOptions: tls.ConnectionOptions): Promise<Recording> {
  const recorder = await startHandshakeRecorder(serverOptions);
  try {
    return await recorder.connect(clientOptions);
  } finally {
    await recorder.close();
  }
}

export function policy(overrides: Partial<TlsPolicy> = {}): TlsPolicy {
  return { ...DEFAULT_TLS_POLICY, ...overrides };
}

export function inspectorOptions(overrides: Partial<TlsInspectorOptions> & { policy?: TlsPolicy } = {}): TlsInspectorOptions {
  return { connectHost: SERVER_HOST, policy: policy(), clientAllowlist: [], ...overrides };
}

export interface InspectionRun {
  outcome: InspectionOutcome;
  /** Index of the segment that produced the verdict (segments.length if none did). */
  decidedAt: number;
  maxBuffered: number;
}

/** Feeds the segments in order until a verdict, as the gateway would. */
export function inspect(segments: readonly Segment[], options: TlsInspectorOptions): InspectionRun {
  const inspector = new TlsInspector(options);
  let outcome: InspectionOutcome = { kind: 'pending' };
  let maxBuffered = 0;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    outcome = s.from === 'client' ? inspector.feedClient(s.data) : inspector.feedServer(s.data);
    const b = inspector.bufferedBytes();
    maxBuffered = Math.max(maxBuffered, b.client, b.server);
    if (outcome.kind !== 'pending') return { outcome, decidedAt: i, maxBuffered };
  }
  return { outcome, decidedAt: segments.length, maxBuffered };
}

/** Consecutive segments from the same side merged, so split points are not limited by TCP's. */
export function mergeSameSide(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && last.from === s.from) last.data = Buffer.concat([last.data, s.data]);
    else out.push({ from: s.from, data: Buffer.from(s.data) });
  }
  return out;
}

/** Splits segment `index` at `offsets` (sorted, inside the segment). */
export function splitSegment(segments: readonly Segment[], index: number, offsets: readonly number[]): Segment[] {
  const s = segments[index];
  const pieces: Segment[] = [];
  let start = 0;
  for (const o of [...offsets, s.data.length]) {
    if (o > start) pieces.push({ from: s.from, data: s.data.subarray(start, o) });
    start = Math.max(start, o);
  }
  return [...segments.slice(0, index), ...pieces, ...segments.slice(index + 1)];
}

export function byteAtATime(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) for (let i = 0; i < s.data.length; i++) out.push({ from: s.from, data: s.data.subarray(i, i + 1) });
  return out;
}

/**
 * Re-frames the cleartext handshake records at the start of one side's stream: the handshake
 * payload is cut into records of the given sizes (fragmenting and coalescing messages); everything
 * from the first non-handshake record on is kept as it was.
 */
export function reframeHandshake(stream: Buffer, recordSizes: (index: number) => number): Buffer {
  let pos = 0;
  const payloads: Buffer[] = [];
  let version = 0x0303;
  while (pos + 5 <= stream.length && stream[pos] === 22) {
    const length = stream.readUInt16BE(pos + 3);
    if (pos + 5 + length > stream.length) break;
    version = stream.readUInt16BE(pos + 1);
    payloads.push(stream.subarray(pos + 5, pos + 5 + length));
    pos += 5 + length;
  }
  const payload = Buffer.concat(payloads);
  const records: Buffer[] = [];
  let p = 0;
  for (let i = 0; p < payload.length; i++) {
    const size = Math.max(1, Math.min(16384, recordSizes(i), payload.length - p));
    const header = Buffer.alloc(5);
    header[0] = 22;
    header.writeUInt16BE(version, 1);
    header.writeUInt16BE(size, 3);
    records.push(header, payload.subarray(p, p + size));
    p += size;
  }
  return Buffer.concat([...records, stream.subarray(pos)]);
}
