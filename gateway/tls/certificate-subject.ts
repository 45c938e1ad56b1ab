import { X509Certificate } from 'node:crypto';
import { subjectFromNodeX509 } from './subject.js';

/**
 * Subject (comma form, certificate order) of a DER certificate, read with Node's X509Certificate.
 * Node 20 / OpenSSL 3 spends ~0.3-0.5 ms decoding one certificate (mostly its public key), more than
 * the whole rest of the inspection, and agents reconnect with the same certificate again and again:
 * results are kept in a small bounded cache keyed by the exact DER bytes.
 */
const CACHE_LIMIT = 2048;
const cache = new Map<string, string>();

export type SubjectResult = { ok: true; subject: string } | { ok: false; error: string };

export function certificateSubject(der: Buffer): SubjectResult {
  const key = der.toString('latin1');
  const hit = cache.get(key);
  if (hit !== undefined) {
    // refresh recency: Map keeps insertion order, the oldest entry is evicted first
    cache.delete(key);
    cache.set(key, hit);
    return { ok: true, subject: hit };
  }
  let subject: string;
  try {
    subject = subjectFromNodeX509(new X509Certificate(der).subject);
  } catch (err) {
    return { ok: false, error: (err as Error)?.message ?? String(err) };
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, subject);
  return { ok: true, subject };
}

/** Forgets cached subjects (benchmarks measure the uncached cost with it). */
export function clearCertificateSubjectCache(): void {
  cache.clear();
}
