import { inflateRawSync, inflateSync, gunzipSync } from 'node:zlib';
import { RECORD_ID_FIELD } from '../../lib/records/index.js';

/** The DataItems field the simulators stamp with their own ledger record id ("created = ingested"): one definition, in lib/records. */
export { RECORD_ID_FIELD };

export type DecodeResult = { ok: true; body: Buffer } | { ok: false; status: number; reason: string };

/**
 * out_oms.rb sends `Content-Encoding: deflate` with a zlib stream (Zlib::Deflate.deflate);
 * some clients send raw deflate under the same name, so accept both.
 */
export function decodeBody(raw: Buffer, contentEncoding: string | undefined): DecodeResult {
  const enc = (contentEncoding ?? 'identity').trim().toLowerCase();
  try {
    if (enc === '' || enc === 'identity') return { ok: true, body: raw };
    if (enc === 'deflate') {
      try {
        return { ok: true, body: inflateSync(raw) };
      } catch {
        return { ok: true, body: inflateRawSync(raw) };
      }
    }
    if (enc === 'gzip') return { ok: true, body: gunzipSync(raw) };
  } catch (err) {
    return { ok: false, status: 400, reason: `body is not valid ${enc} data: ${(err as Error).message}` };
  }
  return { ok: false, status: 415, reason: `unsupported Content-Encoding ${contentEncoding}` };
}

export interface OdsPayload {
  dataType: string;
  ipName: string;
  items: unknown[];
  recordIds: string[];
}

export type OdsParseResult = { ok: true; payload: OdsPayload } | { ok: false; reason: string };

/** `{"DataType": "...", "IPName": "...", "DataItems": [...]}` */
export function parseOdsPayload(body: Buffer): OdsParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { ok: false, reason: 'body must be a JSON object with DataType, IPName and DataItems' };
  const o = json as Record<string, unknown>;
  if (typeof o.DataType !== 'string' || o.DataType === '') return { ok: false, reason: 'missing or empty DataType' };
  if (typeof o.IPName !== 'string' || o.IPName === '') return { ok: false, reason: 'missing or empty IPName' };
  if (!Array.isArray(o.DataItems)) return { ok: false, reason: 'DataItems must be an array' };
  return { ok: true, payload: { dataType: o.DataType, ipName: o.IPName, items: o.DataItems, recordIds: recordIdsOf(o.DataItems) } };
}

export function recordIdsOf(items: unknown[]): string[] {
  const ids: string[] = [];
  for (const item of items) {
    if (item && typeof item === 'object') {
      const id = (item as Record<string, unknown>)[RECORD_ID_FIELD];
      if (typeof id === 'string' || typeof id === 'number') ids.push(String(id));
    }
  }
  return ids;
}

/** Data Collector API body: a JSON array of records (a single object counts as one). */
export function parseDataCollectorBody(body: Buffer): { ok: true; items: unknown[] } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  if (Array.isArray(json)) return { ok: true, items: json };
  if (json && typeof json === 'object') return { ok: true, items: [json] };
  return { ok: false, reason: 'body must be a JSON array of objects' };
}

/** Log-Type: letters, digits and underscore, at most 100 characters (the service's rule). */
export function isValidLogType(v: string): boolean {
  return /^[A-Za-z0-9_]{1,100}$/.test(v);
}
