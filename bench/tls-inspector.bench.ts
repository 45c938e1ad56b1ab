/**
 * Micro-benchmark of the passive TLS inspector (not a test): records one real TLS 1.2 mutual-TLS
 * handshake and one TLS 1.3 ClientHello over loopback, then replays them into fresh TlsInspectors.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/tls-inspector.bench.js [--seconds 1]
 *
 * Prints inspections per second and MB/s of inspected bytes per case, and one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { TlsInspector } from '../gateway/tls/inspector.js';
import { DEFAULT_TLS_POLICY } from '../gateway/tls/policy.js';
import type { TlsInspectorOptions } from '../gateway/tls/inspector.js';
import { clearCertificateSubjectCache } from '../gateway/tls/certificate-subject.js';
import { generateBenchCerts } from '../harness/certs.js';

interface Chunk {
  client: boolean;
  data: Buffer;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** One handshake through a loopback relay that records both directions in order. */
async function record(serverOptions: tls.TlsOptions, clientOptions: tls.ConnectionOptions): Promise<Chunk[]> {
  const server = tls.createServer(serverOptions, (s) => {
    s.on('error', () => undefined);
    s.end('ok');
  });
  server.on('tlsClientError', () => undefined);
  const serverPort = await listen(server);
  const chunks: Chunk[] = [];
  const sockets: net.Socket[] = [];
  const relay = net.createServer((down) => {
    const up = net.connect(serverPort, '127.0.0.1');
    sockets.push(down, up);
    down.on('data', (d) => (chunks.push({ client: true, data: Buffer.from(d) }), up.write(d)));
    up.on('data', (d) => (chunks.push({ client: false, data: Buffer.from(d) }), down.write(d)));
    for (const [a, b] of [[down, up], [up, down]]) {
      a.on('end', () => b.end());
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  const relayPort = await listen(relay);
  await new Promise<void>((resolve) => {
    const c = tls.connect({ host: '127.0.0.1', port: relayPort, rejectUnauthorized: false, ...clientOptions });
    c.on('data', () => undefined);
    c.on('end', () => c.end());
    c.on('error', () => c.destroy());
    c.on('close', () => resolve());
  });
  for (const s of sockets) s.destroy();
  await Promise.all([new Promise((r) => relay.close(r)), new Promise((r) => server.close(r))]);
  return chunks;
}

/** The chunks up to the verdict, and the verdict kind. */
function untilVerdict(chunks: Chunk[], options: TlsInspectorOptions): { chunks: Chunk[]; kind: string; bytes: number } {
  const inspector = new TlsInspector(options);
  for (let i = 0; i < chunks.length; i++) {
    const o = chunks[i].client ? inspector.feedClient(chunks[i].data) : inspector.feedServer(chunks[i].data);
    if (o.kind !== 'pending') {
      const used = chunks.slice(0, i + 1);
      return { chunks: used, kind: o.kind, bytes: used.reduce((n, c) => n + c.data.length, 0) };
    }
  }
  throw new Error('recorded handshake gave no verdict');
}

function resplit(chunks: Chunk[], size: number): Chunk[] {
  const out: Chunk[] = [];
  for (const c of chunks) for (let i = 0; i < c.data.length; i += size) out.push({ client: c.client, data: c.data.subarray(i, i + size) });
  return out;
}

function measure(name: string, chunks: Chunk[], options: TlsInspectorOptions, seconds: number, beforeEach?: () => void) {
  const bytes = chunks.reduce((n, c) => n + c.data.length, 0);
  const run = () => {
    beforeEach?.();
    const inspector = new TlsInspector(options);
    let o = inspector.outcome;
    for (const c of chunks) {
      o = c.client ? inspector.feedClient(c.data) : inspector.feedServer(c.data);
      if (o.kind !== 'pending') break;
    }
    return o.kind;
  };
  for (let i = 0; i < 200; i++) run(); // warm-up
  let n = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 100; i++) run();
    n += 100;
  }
  const ms = performance.now() - start;
  const perSecond = (n / ms) * 1000;
  return { name, verdict: run(), bytes, chunks: chunks.length, inspectionsPerSecond: Math.round(perSecond), usPerInspection: +(1000 / perSecond * 1000).toFixed(2), mbPerSecond: +((perSecond * bytes) / 1e6).toFixed(1) };
}

async function main(): Promise<void> {
  const secondsArg = process.argv.indexOf('--seconds');
  const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 1;
  if (!(seconds > 0 && seconds <= 30)) throw new Error('--seconds must be a number from 0 to 30');
  const dir = mkdtempSync(join(tmpdir(), 'omsgw-tls-bench-'));
  try {
    const certs = generateBenchCerts(dir, 'rsa');
    const server = { key: certs.serverKey, cert: certs.serverCert, requestCert: true, rejectUnauthorized: false };
    const host = 'ws.oms.opinsights.azure.com';
    const mtls = await record(server, { maxVersion: 'TLSv1.2', servername: host, key: certs.clientKey, cert: certs.clientCert });
    const tls13 = await record(server, { servername: host, key: certs.clientKey, cert: certs.clientCert });
    const policy = { ...DEFAULT_TLS_POLICY };
    const exact = { connectHost: host, policy, clientAllowlist: [certs.clientSubject] };
    const bigList = { ...exact, clientAllowlist: [...Array.from({ length: 999 }, (_, i) => `CN=${i}-other-workspace, O=Microsoft`), certs.clientSubject] };
    const full = untilVerdict(mtls, exact);
    const first = untilVerdict(tls13, { ...exact, policy: { ...policy, maxVersion: 'TLSv1.2' } });
    const results = [
      measure('TLS 1.2 mTLS: ClientHello + server flight + client Certificate flight (as recorded)', full.chunks, exact, seconds),
      measure('same, certificate seen for the first time (subject cache cleared)', full.chunks, exact, seconds, clearCertificateSubjectCache),
      measure('same, re-split into 100-byte chunks', resplit(full.chunks, 100), exact, seconds),
      measure('same, allowlist of 1000 subjects', full.chunks, bigList, seconds),
      measure('TLS 1.3 ClientHello + ServerHello (106)', first.chunks, exact, seconds),
    ];
    const w = Math.max(...results.map((r) => r.name.length));
    console.log(`${'case'.padEnd(w)}  verdict    bytes  chunks   inspections/s   us/insp     MB/s`);
    for (const r of results) {
      console.log(`${r.name.padEnd(w)}  ${r.verdict.padEnd(9)} ${String(r.bytes).padStart(6)}  ${String(r.chunks).padStart(6)}  ${String(r.inspectionsPerSecond).padStart(14)}  ${String(r.usPerInspection).padStart(8)}  ${String(r.mbPerSecond).padStart(7)}`);
    }
    console.log(JSON.stringify({ bench: 'tls-inspector', node: process.version, seconds, results }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
