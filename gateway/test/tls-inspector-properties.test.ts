/**
 * Properties of TlsInspector over real recorded handshakes:
 * - the verdict does not depend on how the bytes are split into chunks (every split point, random
 *   multi-splits, one byte at a time) or framed into records (fragmented and coalesced messages);
 * - random and mutated inputs never throw, always end in one of the four outcome kinds and never
 *   buffer more than policy.maxBufferBytes.
 */
import fc from 'fast-check';
import * as tls from 'node:tls';
import { TlsInspector } from '../tls/inspector.js';
import type { InspectionOutcome } from '../tls/types.js';
import {
  byteAtATime,
  inspect,
  inspectorOptions,
  makeTestCerts,
  mergeSameSide,
  policy,
  recordHandshake,
  reframeHandshake,
  SERVER_HOST,
  splitSegment,
  type Segment,
  type TestCerts,
} from './tls-support.js';
import type { TlsInspectorOptions } from '../tls/inspector.js';

interface Case {
  name: string;
  segments: Segment[];
  options: TlsInspectorOptions;
  expected: InspectionOutcome['kind'];
}

let certs: TestCerts;
const cases: Case[] = [];

beforeAll(async () => {
  certs = makeTestCerts();
  const server = (extra: tls.TlsOptions = {}): tls.TlsOptions => ({ key: certs.server.key, cert: certs.server.cert, ...extra });
  const mtls = { requestCert: true, rejectUnauthorized: false };
  const allowed = { key: certs.allowedClient.key, cert: certs.allowedClient.cert };
  const other = { key: certs.otherClient.key, cert: certs.otherClient.cert };
  const tls12 = { maxVersion: 'TLSv1.2', servername: SERVER_HOST } as const;
  const add = async (name: string, s: tls.TlsOptions, c: tls.ConnectionOptions, options: TlsInspectorOptions, expected: Case['expected']) => {
    const rec = await recordHandshake(server(s), c);
    cases.push({ name, segments: mergeSameSide(rec.segments), options, expected });
  };
  await add('TLS 1.2 + allowed client certificate', mtls, { ...tls12, ...allowed }, inspectorOptions({ clientAllowlist: ['CN=ws-0001'] }), 'verified');
  await add('TLS 1.2 + disallowed subject', mtls, { ...tls12, ...other }, inspectorOptions({ clientAllowlist: ['CN=ws-0001'] }), 'rejected');
  await add('TLS 1.2 without certificate request', {}, { ...tls12 }, inspectorOptions(), 'verified');
  await add('TLS 1.2 certificate requested, none sent, reject', mtls, { ...tls12 }, inspectorOptions({ policy: policy({ missingClientCertificate: 'reject' }) }), 'rejected');
  await add('TLS 1.3 chosen by the server, policy preview-2016', mtls, { servername: SERVER_HOST, ...allowed }, inspectorOptions({ policy: policy({ maxVersion: 'TLSv1.2' }) }), 'rejected');
  await add('TLS 1.3 chosen by the server, client allowlist configured', mtls, { servername: SERVER_HOST, ...allowed }, inspectorOptions({ clientAllowlist: ['CN=ws-0001'] }), 'rejected');
  await add('TLS 1.3 allowed by the current policy', mtls, { servername: SERVER_HOST, ...allowed }, inspectorOptions(), 'verified');
  await add('SNI mismatch', {}, { ...tls12, servername: 'other.example.test' }, inspectorOptions(), 'rejected');
});
afterAll(() => certs.cleanup());

/** Segments up to and including the one that decided (bytes after the verdict are never read). */
function relevant(c: Case): Segment[] {
  const run = inspect(c.segments, c.options);
  return c.segments.slice(0, Math.min(run.decidedAt + 1, c.segments.length));
}

function baseline(c: Case): InspectionOutcome {
  return inspect(c.segments, c.options).outcome;
}

const VALID_KINDS = new Set(['pending', 'verified', 'rejected', 'malformed']);

function checkOutcomeShape(outcome: InspectionOutcome): void {
  expect(VALID_KINDS.has(outcome.kind)).toBe(true);
  if (outcome.kind === 'rejected') expect([105, 106]).toContain(outcome.eventId);
  if (outcome.kind === 'malformed') expect(outcome.eventId).toBe(402);
  if (outcome.kind !== 'pending' && outcome.kind !== 'verified') expect(outcome.message.length).toBeGreaterThan(0);
}

describe('recorded baselines', () => {
  test('each recording yields the expected kind of verdict', () => {
    expect(cases.map((c) => [c.name, baseline(c).kind])).toEqual(cases.map((c) => [c.name, c.expected]));
  });
});

describe('chunking does not change the verdict', () => {
  test('every single split point of every recorded segment up to the verdict', () => {
    let runs = 0;
    for (const c of cases) {
      const expected = baseline(c);
      const segments = relevant(c);
      for (let i = 0; i < segments.length; i++) {
        for (let at = 1; at < segments[i].data.length; at++) {
          const outcome = inspect(splitSegment(segments, i, [at]), c.options).outcome;
          if (JSON.stringify(outcome) !== JSON.stringify(expected)) {
            throw new Error(`${c.name}: split of segment ${i} at ${at} gave ${JSON.stringify(outcome)}, expected ${JSON.stringify(expected)}`);
          }
          runs++;
        }
      }
    }
    expect(runs).toBeGreaterThan(1000);
  });

  test('one byte at a time', () => {
    for (const c of cases) expect([c.name, inspect(byteAtATime(relevant(c)), c.options).outcome]).toEqual([c.name, baseline(c)]);
  });

  test('random multi-splits of every segment', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.array(fc.nat(), { maxLength: 12 }), { minLength: 8, maxLength: 8 }),
        (caseSeed, cutsPerSegment) => {
          const c = cases[caseSeed % cases.length];
          let segments = relevant(c);
          // split from the last segment backwards so indexes stay valid
          for (let i = segments.length - 1; i >= 0; i--) {
            const len = segments[i].data.length;
            const cuts = [...new Set((cutsPerSegment[i % cutsPerSegment.length] ?? []).map((n) => n % len))].sort((a, b) => a - b);
            segments = splitSegment(segments, i, cuts);
          }
          expect(inspect(segments, c.options).outcome).toEqual(baseline(c));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('handshake messages re-framed into records of random sizes (fragmented and coalesced)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
        (caseSeed, sizes) => {
          const c = cases[caseSeed % cases.length];
          const segments = relevant(c).map((s) => ({ from: s.from, data: reframeHandshake(s.data, (i) => sizes[i % sizes.length]) }));
          expect(inspect(segments, c.options).outcome).toEqual(baseline(c));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('the re-framer really produces fragmented and coalesced records', () => {
    const c = cases[0];
    const first = relevant(c)[0].data; // ClientHello
    const fragmented = reframeHandshake(first, () => 7);
    expect(fragmented.length).toBe(first.length + 5 * (Math.ceil((first.length - 5) / 7) - 1));
    const serverFlight = relevant(c)[1].data;
    const coalesced = reframeHandshake(serverFlight, () => 16384);
    expect(coalesced.length).toBeLessThan(serverFlight.length); // several records became one
  });
});

describe('random and mutated input never throws, hangs or over-buffers', () => {
  const smallCap = policy({ maxBufferBytes: 4096 });

  function feedAll(inspector: TlsInspector, chunks: { client: boolean; data: Uint8Array }[], cap: number): InspectionOutcome {
    let outcome: InspectionOutcome = { kind: 'pending' };
    for (const chunk of chunks) {
      const data = Buffer.from(chunk.data);
      outcome = chunk.client ? inspector.feedClient(data) : inspector.feedServer(data);
      checkOutcomeShape(outcome);
      const buffered = inspector.bufferedBytes();
      expect(Math.max(buffered.client, buffered.server)).toBeLessThanOrEqual(cap);
      if (outcome.kind !== 'pending') break;
    }
    return outcome;
  }

  test('random bytes in random directions', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ client: fc.boolean(), data: fc.uint8Array({ maxLength: 600 }) }), { maxLength: 12 }), (chunks) => {
        feedAll(new TlsInspector(inspectorOptions({ policy: smallCap })), chunks, smallCap.maxBufferBytes);
      }),
      { numRuns: 1000 },
    );
  });

  test('random bytes behind a valid handshake record header', () => {
    const header = fc.record({
      type: fc.constantFrom(20, 21, 22, 23),
      length: fc.integer({ min: 0, max: 0x4800 }),
      hsType: fc.integer({ min: 0, max: 255 }),
      hsLength: fc.integer({ min: 0, max: 0xffffff }),
    });
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 800 }), fc.boolean(), (h, tail, client) => {
        const bytes = Buffer.concat([
          Buffer.from([h.type, 3, 3, h.length >> 8, h.length & 0xff, h.hsType, h.hsLength >> 16, (h.hsLength >> 8) & 0xff, h.hsLength & 0xff]),
          tail,
        ]);
        const inspector = new TlsInspector(inspectorOptions({ policy: smallCap }));
        // The server side needs a ClientHello first to get past the opening checks.
        if (!client) inspector.feedClient(relevant(cases[2])[0].data);
        feedAll(inspector, [{ client, data: bytes }], smallCap.maxBufferBytes);
      }),
      { numRuns: 1000 },
    );
  });

  test('mutated recordings (byte flips, insertions, deletions, truncation)', () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'set'),
      value: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 6 }), (caseSeed, segSeed, mutations) => {
        const c = cases[caseSeed % cases.length];
        const segments = relevant(c).map((s) => ({ from: s.from, data: Buffer.from(s.data) }));
        const target = segments[segSeed % segments.length];
        let data = target.data;
        for (const m of mutations) {
          const at = data.length ? m.at % data.length : 0;
          if (m.kind === 'flip' && data.length) data[at] ^= 1 << (m.value % 8);
          else if (m.kind === 'set' && data.length) data[at] = m.value;
          else if (m.kind === 'insert') data = Buffer.concat([data.subarray(0, at), Buffer.from([m.value]), data.subarray(at)]);
          else if (m.kind === 'delete') data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1)]);
          else if (m.kind === 'truncate') data = data.subarray(0, at);
        }
        target.data = data;
        const inspector = new TlsInspector({ ...c.options, policy: { ...c.options.policy, maxBufferBytes: 4096 } });
        feedAll(inspector, segments.map((s) => ({ client: s.from === 'client', data: s.data })), 4096);
      }),
      { numRuns: 1500 },
    );
  });

  test('a flood of skipped server bytes (huge Certificate message) is streamed, not buffered', () => {
    const c = cases[2];
    const inspector = new TlsInspector(inspectorOptions({ policy: smallCap }));
    expect(inspector.feedClient(relevant(c)[0].data)).toEqual({ kind: 'pending' });
    // A real ServerHello from the recording, then a 1 MiB Certificate message in 16 KiB records.
    const serverFlight = relevant(c)[1].data;
    const helloRecordLength = 5 + serverFlight.readUInt16BE(3);
    const serverHelloOnly = reframeHandshake(serverFlight.subarray(0, helloRecordLength), () => 16384);
    expect(inspector.feedServer(serverHelloOnly)).toEqual({ kind: 'pending' });
    const total = 1024 * 1024;
    const header = Buffer.from([11, total >> 16, (total >> 8) & 0xff, total & 0xff]);
    let body = Buffer.concat([header, Buffer.alloc(total, 0x41)]);
    while (body.length) {
      const part = body.subarray(0, 16384);
      body = body.subarray(16384);
      const record = Buffer.concat([Buffer.from([22, 3, 3, part.length >> 8, part.length & 0xff]), part]);
      expect(inspector.feedServer(record)).toEqual({ kind: 'pending' });
      expect(inspector.bufferedBytes().server).toBe(0);
    }
  });
});
