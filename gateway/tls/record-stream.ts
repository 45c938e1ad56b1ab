/**
 * One direction of a TLS connection, read incrementally: the record layer (headers split anywhere,
 * many records per chunk) and handshake reassembly (messages fragmented over records or coalesced
 * in one). Streaming: each byte is looked at once, and only message bodies the handler asks for are
 * copied (into a buffer of exactly the announced size, refused when larger than the cap).
 */
import { handshakeName } from './handshake.js';
import type { InspectionOutcome } from './types.js';

export const ContentType = { ChangeCipherSpec: 20, Alert: 21, Handshake: 22, ApplicationData: 23 } as const;
const CONTENT_NAMES: Record<number, string> = { 20: 'ChangeCipherSpec', 21: 'Alert', 22: 'Handshake', 23: 'ApplicationData' };

/** RFC 5246: plaintext fragments are at most 2^14 bytes; protected ones may add up to 2048. */
const MAX_PLAINTEXT = 16384;
const MAX_CIPHERTEXT = 16384 + 2048;
const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const EMPTY = Buffer.alloc(0);

export type Verdict = Exclude<InspectionOutcome, { kind: 'pending' }>;

export interface RecordHandler {
  /** Whether the body of a handshake message of this type is needed (else it is skipped uncopied). */
  keepBody(type: number): boolean;
  /** A complete handshake message; `body` is undefined when keepBody said no. */
  onHandshake(type: number, body: Buffer | undefined, length: number): Verdict | undefined;
  onChangeCipherSpec(): Verdict | undefined;
  /** Called at the start of an application_data record (its content is never read). */
  onApplicationData(): Verdict | undefined;
  onAlert(level: number, description: number): Verdict | undefined;
}

const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow', 40: 'handshake_failure',
  42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired',
  46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error',
  51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
  86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation', 109: 'missing_extension',
  110: 'unsupported_extension', 112: 'unrecognized_name', 116: 'certificate_required', 120: 'no_application_protocol',
};

export function alertText(level: number, description: number): string {
  const levelName = level === 1 ? 'warning' : level === 2 ? 'fatal' : `level ${level}`;
  return `${levelName} ${ALERT_NAMES[description] ?? 'alert'} (${description})`;
}

export function malformed(message: string): Verdict {
  return { kind: 'malformed', eventId: 402, message };
}

/** A short printable excerpt of bytes that are not TLS, to say what arrived instead. */
function describeNonTls(chunk: Buffer, pos: number): string {
  const first = chunk[pos];
  const excerpt = chunk.subarray(pos, Math.min(chunk.length, pos + 48));
  const line = excerpt.toString('latin1').split(/\r?\n/)[0];
  if (line.length >= 3 && /^[\x20-\x7e]+$/.test(line)) return `plain text "${line}"`;
  if (first & 0x80 && chunk.length > pos + 2 && chunk[pos + 2] === 1) return 'an SSLv2-format ClientHello (not supported)';
  return `content type 0x${first.toString(16).padStart(2, '0')} (a TLS record starts with 20-23)`;
}

export class RecordStream {
  /** Set by the handler when the rest of this direction no longer matters (e.g. TLS 1.3 early data). */
  ignoreRest = false;
  /** Bytes consumed so far (for error messages). */
  private offset = 0;

  private readonly header = Buffer.alloc(RECORD_HEADER);
  private headerFill = 0;
  private inRecord = false;
  private recordType = 0;
  private recordLeft = 0;

  private readonly hsHeader = Buffer.alloc(HANDSHAKE_HEADER);
  private hsHeaderFill = 0;
  private hsInBody = false;
  private hsType = 0;
  private hsLength = 0;
  private hsLeft = 0;
  private hsBody: Buffer | undefined;
  private hsFill = 0;

  private alertLevel = -1;
  private alertDescription = -1;
  private ccsValue = -1;

  constructor(
    private readonly side: 'client' | 'server',
    private readonly maxBufferBytes: number,
    private readonly handler: RecordHandler,
  ) {}

  /** Bytes currently held for an incomplete handshake message (the fixed 9 header bytes aside). */
  get bufferedBytes(): number {
    return this.hsBody ? this.hsBody.length : 0;
  }

  feed(chunk: Buffer): Verdict | undefined {
    const end = chunk.length;
    let pos = 0;
    while (pos < end && !this.ignoreRest) {
      if (!this.inRecord) {
        if (this.headerFill === 0) {
          const type = chunk[pos];
          if (type < ContentType.ChangeCipherSpec || type > ContentType.ApplicationData) {
            return malformed(`${this.side} sent ${describeNonTls(chunk, pos)} at byte ${this.offset + pos} instead of a TLS record`);
          }
        }
        const take = Math.min(RECORD_HEADER - this.headerFill, end - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + take);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < RECORD_HEADER) break;
        this.headerFill = 0;
        const verdict = this.startRecord(this.offset + pos - RECORD_HEADER);
        if (verdict) return verdict;
        if (this.recordLeft === 0) {
          // zero-length application_data: nothing more to read
          this.inRecord = false;
        }
        continue;
      }
      const take = Math.min(this.recordLeft, end - pos);
      const verdict = this.recordBytes(chunk, pos, take);
      pos += take;
      this.recordLeft -= take;
      if (verdict) return verdict;
      if (this.recordLeft === 0) {
        this.inRecord = false;
        const endVerdict = this.endRecord();
        if (endVerdict) return endVerdict;
      }
    }
    this.offset += end;
    return undefined;
  }

  private startRecord(at: number): Verdict | undefined {
    const type = this.header[0];
    const version = this.header.readUInt16BE(1);
    const length = this.header.readUInt16BE(3);
    const name = CONTENT_NAMES[type];
    if (version >> 8 !== 3) {
      return malformed(`${this.side} ${name} record at byte ${at}: version 0x${version.toString(16).padStart(4, '0')} is not SSL/TLS`);
    }
    const handshakePending = this.hsHeaderFill > 0 || this.hsInBody;
    if (type !== ContentType.Handshake && handshakePending) {
      return malformed(`${this.side} ${name} record at byte ${at} interleaved with a fragmented handshake message`);
    }
    const limit = type === ContentType.ApplicationData ? MAX_CIPHERTEXT : MAX_PLAINTEXT;
    if (length > limit) {
      return malformed(`${this.side} ${name} record at byte ${at}: length ${length} exceeds the TLS maximum of ${limit}`);
    }
    if (type === ContentType.ChangeCipherSpec && length !== 1) {
      return malformed(`${this.side} ChangeCipherSpec record at byte ${at}: length ${length}, must be 1`);
    }
    if (type === ContentType.Alert && (length < 2 || length % 2 !== 0)) {
      return malformed(`${this.side} Alert record at byte ${at}: length ${length}, must be a multiple of 2`);
    }
    if (type === ContentType.Handshake && length === 0) {
      return malformed(`${this.side} empty Handshake record at byte ${at}`);
    }
    this.inRecord = true;
    this.recordType = type;
    this.recordLeft = length;
    this.alertLevel = -1;
    this.alertDescription = -1;
    this.ccsValue = -1;
    if (type === ContentType.ApplicationData) return this.handler.onApplicationData();
    return undefined;
  }

  private recordBytes(chunk: Buffer, pos: number, n: number): Verdict | undefined {
    switch (this.recordType) {
      case ContentType.Handshake:
        return this.handshakeBytes(chunk, pos, n);
      case ContentType.Alert:
        for (let i = 0; i < n; i++) {
          if (this.alertLevel < 0) this.alertLevel = chunk[pos + i];
          else if (this.alertDescription < 0) this.alertDescription = chunk[pos + i];
        }
        return undefined;
      case ContentType.ChangeCipherSpec:
        if (n > 0) this.ccsValue = chunk[pos];
        return undefined;
      default:
        return undefined; // application_data content is opaque
    }
  }

  private endRecord(): Verdict | undefined {
    if (this.recordType === ContentType.Alert) return this.handler.onAlert(this.alertLevel, this.alertDescription);
    if (this.recordType === ContentType.ChangeCipherSpec) {
      if (this.ccsValue !== 1) return malformed(`${this.side} ChangeCipherSpec carries ${this.ccsValue}, must be 1`);
      return this.handler.onChangeCipherSpec();
    }
    return undefined;
  }

  private handshakeBytes(chunk: Buffer, start: number, n: number): Verdict | undefined {
    const end = start + n;
    let pos = start;
    while (pos < end) {
      if (!this.hsInBody) {
        const take = Math.min(HANDSHAKE_HEADER - this.hsHeaderFill, end - pos);
        chunk.copy(this.hsHeader, this.hsHeaderFill, pos, pos + take);
        this.hsHeaderFill += take;
        pos += take;
        if (this.hsHeaderFill < HANDSHAKE_HEADER) return undefined;
        this.hsHeaderFill = 0;
        this.hsType = this.hsHeader[0];
        this.hsLength = (this.hsHeader[1] << 16) | (this.hsHeader[2] << 8) | this.hsHeader[3];
        this.hsLeft = this.hsLength;
        this.hsFill = 0;
        this.hsInBody = true;
        if (this.handler.keepBody(this.hsType)) {
          if (HANDSHAKE_HEADER + this.hsLength > this.maxBufferBytes) {
            return malformed(
              `${this.side} ${handshakeName(this.hsType)} of ${this.hsLength} bytes exceeds the inspection buffer of ${this.maxBufferBytes} bytes`,
            );
          }
          this.hsBody = this.hsLength === 0 ? EMPTY : Buffer.allocUnsafe(this.hsLength);
        } else {
          this.hsBody = undefined;
        }
      }
      const take = Math.min(this.hsLeft, end - pos);
      if (this.hsBody && take > 0) chunk.copy(this.hsBody, this.hsFill, pos, pos + take);
      this.hsFill += take;
      this.hsLeft -= take;
      pos += take;
      if (this.hsLeft === 0) {
        this.hsInBody = false;
        const body = this.hsBody;
        this.hsBody = undefined;
        const verdict = this.handler.onHandshake(this.hsType, body, this.hsLength);
        if (verdict || this.ignoreRest) return verdict;
      }
    }
    return undefined;
  }
}
