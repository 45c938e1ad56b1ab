import type { IncomingHttpHeaders } from 'node:http';
import type { CertificateInfo } from './protocol/certificates.js';

/** One HTTPS request to a fake cloud host, as every handler (OMS, ODS, AMA) sees it, and its answer. */
export interface CloudRequest {
  host: string;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The client certificate presented in the TLS handshake, if any. */
  peer?: CertificateInfo;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}
