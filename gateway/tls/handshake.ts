/**
 * Parsers for the three handshake messages the inspector reads in full: ClientHello, ServerHello and
 * the client's (TLS <= 1.2) Certificate. Each takes the message body (without the 4-byte handshake
 * header) and returns either the facts the policy needs or a precise error string. Never throws.
 */
import { isGrease, SSL3, TLS12 } from './versions.js';

export const HandshakeType = {
  HelloRequest: 0,
  ClientHello: 1,
  ServerHello: 2,
  NewSessionTicket: 4,
  EndOfEarlyData: 5,
  EncryptedExtensions: 8,
  Certificate: 11,
  ServerKeyExchange: 12,
  CertificateRequest: 13,
  ServerHelloDone: 14,
  CertificateVerify: 15,
  ClientKeyExchange: 16,
  Finished: 20,
  CertificateStatus: 22,
  SupplementalData: 23,
} as const;

const HANDSHAKE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(HandshakeType).map(([k, v]) => [v, k]));

export function handshakeName(type: number): string {
  return `${HANDSHAKE_NAMES[type] ?? 'unknown handshake message'} (${type})`;
}

const EXT_SERVER_NAME = 0;
const EXT_EARLY_DATA = 42;
const EXT_SUPPORTED_VERSIONS = 43;

class ParseError extends Error {}

/** Bounds-checked big-endian reader over [pos, end) of a buffer. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    public readonly end: number,
    private readonly where: string,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new ParseError(`${this.where}: truncated at ${what} (needs ${n} bytes, ${this.end - this.pos} left)`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u24(what: string): number {
    this.need(3, what);
    const v = (this.buf[this.pos] << 16) | (this.buf[this.pos + 1] << 8) | this.buf[this.pos + 2];
    this.pos += 3;
    return v;
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  /** A reader over the next `length` bytes, which this reader skips. */
  sub(length: number, what: string): Reader {
    if (this.end - this.pos < length) {
      throw new ParseError(`${this.where}: ${what} length ${length} exceeds the ${this.end - this.pos} bytes left`);
    }
    const r = new Reader(this.buf, this.pos, this.pos + length, `${this.where} ${what}`);
    this.pos += length;
    return r;
  }

  bytes(length: number, what: string): Buffer {
    this.need(length, what);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  fail(message: string): never {
    throw new ParseError(`${this.where}: ${message}`);
  }
}

function run<T>(parse: () => T): T | string {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ParseError) return err.message;
    return `unexpected parser failure: ${(err as Error)?.message ?? String(err)}`;
  }
}

/** Iterates the extensions block that may follow the fixed part of a hello; rejects duplicates. */
function forEachExtension(r: Reader, onExtension: (type: number, data: Reader) => void): void {
  if (r.remaining === 0) return; // extensions are optional before TLS 1.3
  const block = r.sub(r.u16('extensions length'), 'extensions');
  if (r.remaining !== 0) r.fail(`${r.remaining} unexpected bytes after the extensions`);
  const seen = new Set<number>();
  while (block.remaining > 0) {
    const type = block.u16('extension type');
    const data = block.sub(block.u16(`extension ${type} length`), `extension ${type}`);
    if (seen.has(type)) block.fail(`duplicate extension ${type}`);
    seen.add(type);
    onExtension(type, data);
  }
}

function checkLegacyVersion(r: Reader, version: number, field: string): void {
  if (version >> 8 !== 3) r.fail(`${field} 0x${version.toString(16).padStart(4, '0')} is not SSL/TLS (major version must be 3)`);
}

export interface ClientHelloInfo {
  legacyVersion: number;
  /** Versions the client offers (supported_versions without GREASE, else SSLv3 up to legacy_version). */
  offeredVersions: number[];
  hasSupportedVersions: boolean;
  /** host_name from server_name, as sent (ASCII). */
  sni?: string;
  earlyData: boolean;
}

function isHostNameByte(b: number): boolean {
  return b > 0x20 && b < 0x7f;
}

/** The start both hellos share: legacy version (checked), random, session_id (at most 32 bytes). Returns the version. */
function readHelloStart(r: Reader, versionField: 'client_version' | 'server_version'): number {
  const legacyVersion = r.u16(versionField);
  checkLegacyVersion(r, legacyVersion, versionField);
  r.skip(32, 'random');
  const sessionIdLength = r.u8('session_id length');
  if (sessionIdLength > 32) r.fail(`session_id length ${sessionIdLength} exceeds 32`);
  r.skip(sessionIdLength, 'session_id');
  return legacyVersion;
}

export function parseClientHello(body: Buffer): ClientHelloInfo | string {
  return run(() => {
    const r = new Reader(body, 0, body.length, 'ClientHello');
    const legacyVersion = readHelloStart(r, 'client_version');
    const suitesLength = r.u16('cipher_suites length');
    if (suitesLength < 2 || suitesLength % 2 !== 0) r.fail(`cipher_suites length ${suitesLength} must be even and at least 2`);
    r.skip(suitesLength, 'cipher_suites');
    const compressionLength = r.u8('compression_methods length');
    if (compressionLength < 1) r.fail('compression_methods is empty');
    r.skip(compressionLength, 'compression_methods');

    let sni: string | undefined;
    let supported: number[] | undefined;
    let earlyData = false;
    forEachExtension(r, (type, data) => {
      if (type === EXT_SERVER_NAME) {
        const list = data.sub(data.u16('server_name list length'), 'server_name list');
        if (data.remaining !== 0) data.fail(`${data.remaining} bytes after the server_name list`);
        if (list.remaining === 0) list.fail('empty server_name list');
        while (list.remaining > 0) {
          const nameType = list.u8('name_type');
          const nameLength = list.u16('name length');
          const name = list.bytes(nameLength, 'name');
          if (nameType !== 0) continue; // only host_name (0) is defined; skip others as RFC 6066 allows
          if (sni !== undefined) list.fail('more than one host_name');
          if (nameLength === 0) list.fail('empty host_name');
          for (let i = 0; i < name.length; i++) {
            if (!isHostNameByte(name[i])) list.fail(`host_name byte ${i} (0x${name[i].toString(16)}) is not printable ASCII`);
          }
          sni = name.toString('latin1');
        }
      } else if (type === EXT_SUPPORTED_VERSIONS) {
        const listLength = data.u8('supported_versions length');
        if (listLength < 2 || listLength % 2 !== 0) data.fail(`supported_versions length ${listLength} must be even and at least 2`);
        const list = data.sub(listLength, 'supported_versions list');
        if (data.remaining !== 0) data.fail(`${data.remaining} bytes after the supported_versions list`);
        supported = [];
        while (list.remaining > 0) {
          const v = list.u16('version');
          if (!isGrease(v)) supported.push(v);
        }
      } else if (type === EXT_EARLY_DATA) {
        earlyData = true;
      }
    });

    let offeredVersions: number[];
    if (supported) {
      offeredVersions = supported;
    } else {
      // Without supported_versions a client offers every version up to legacy_version (capped at 1.2).
      offeredVersions = [];
      for (let v = SSL3; v <= Math.min(legacyVersion, TLS12); v++) offeredVersions.push(v);
    }
    return { legacyVersion, offeredVersions, hasSupportedVersions: supported !== undefined, sni, earlyData };
  });
}

export interface ServerHelloInfo {
  legacyVersion: number;
  /** supported_versions.selected_version when present (TLS 1.3), else legacy_version. */
  selectedVersion: number;
}

export function parseServerHello(body: Buffer): ServerHelloInfo | string {
  return run(() => {
    const r = new Reader(body, 0, body.length, 'ServerHello');
    const legacyVersion = readHelloStart(r, 'server_version');
    r.skip(2, 'cipher_suite');
    r.skip(1, 'compression_method');
    let selectedVersion = legacyVersion;
    forEachExtension(r, (type, data) => {
      if (type === EXT_SUPPORTED_VERSIONS) {
        if (data.remaining !== 2) data.fail(`selected_version must be 2 bytes, got ${data.remaining}`);
        selectedVersion = data.u16('selected_version');
      }
    });
    return { legacyVersion, selectedVersion };
  });
}

/** The leaf certificate (DER) of a TLS <= 1.2 Certificate message, or null for an empty list. */
export function parseCertificateList(body: Buffer): { leaf: Buffer | null; count: number } | string {
  return run(() => {
    const r = new Reader(body, 0, body.length, 'client Certificate');
    const list = r.sub(r.u24('certificate_list length'), 'certificate_list');
    if (r.remaining !== 0) r.fail(`${r.remaining} unexpected bytes after the certificate_list`);
    let leaf: Buffer | null = null;
    let count = 0;
    while (list.remaining > 0) {
      const length = list.u24(`certificate ${count} length`);
      if (length === 0) list.fail(`certificate ${count} is empty`);
      const der = list.bytes(length, `certificate ${count}`);
      if (count === 0) leaf = der;
      count++;
    }
    return { leaf, count };
  });
}
