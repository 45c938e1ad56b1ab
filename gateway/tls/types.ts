/** Contract between the gateway's tunnel code and the passive TLS inspection (see docs/ARCHITECTURE.md). */

export type TlsVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface TlsPolicy {
  /** Lowest accepted version; the real product accepted TLS 1.0 to 1.2. */
  minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';
  /** Opt-in: let TLS 1.3 through (client certificate cannot be seen; host and SNI checks only). */
  allowTls13: boolean;
  /** The SNI must equal the CONNECT host. */
  requireSniMatch: boolean;
  /** What to do when the ClientHello carries no SNI. */
  missingSni: 'allow' | 'reject';
  /** What to do when the server asked for a client certificate and the client sent none. */
  missingClientCertificate: 'allow' | 'reject';
  /** Give up inspecting (event 402) after this long without a verdict. */
  inspectionTimeoutMs: number;
  /** Most bytes buffered per direction while inspecting. */
  maxBufferBytes: number;
}

export type InspectionOutcome =
  | { kind: 'pending' }
  | { kind: 'verified'; version: TlsVersionName; sni?: string; clientSubject?: string; note?: string }
  | { kind: 'rejected'; eventId: 105 | 106; message: string }
  | { kind: 'malformed'; eventId: 402; message: string };
