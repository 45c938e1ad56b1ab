/** Contract between the gateway's tunnel code and the passive TLS inspection (see docs/ARCHITECTURE.md). */

export type TlsVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Named version ranges (docs/tls-inspection.md): today's product, and the 2016 preview. */
export type TlsPolicyName = 'current' | 'preview-2016';

export interface TlsPolicy {
  /** Lowest accepted version. */
  minVersion: TlsVersionName;
  /** Highest accepted version: TLSv1.3 today (the current product), TLSv1.2 in the 2016 preview. */
  maxVersion: TlsVersionName;
  /**
   * A TLS 1.3 session while allowedlist_client.txt lists subjects: TLS 1.3 encrypts the client
   * certificate, so the allowlist cannot be checked. "reject" (106, fail closed) or "allow"
   * (107 noting that the certificate was not checked).
   */
  tls13ClientCertificate: 'reject' | 'allow';
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

/** What gateway.json's "tls", PUT /api/config and createGateway accept: a preset and/or fields. */
export type TlsPolicyInput = Partial<TlsPolicy> & { policy?: TlsPolicyName };

export type InspectionOutcome =
  | { kind: 'pending' }
  | { kind: 'verified'; version: TlsVersionName; sni?: string; clientSubject?: string; note?: string }
  | { kind: 'rejected'; eventId: 105 | 106; message: string }
  | { kind: 'malformed'; eventId: 402; message: string };
