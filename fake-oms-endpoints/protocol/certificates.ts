import { createHash, X509Certificate } from 'node:crypto';

/** What the cloud knows about an agent certificate, from the TLS handshake or a topology request body. */
export interface CertificateInfo {
  /** Subject in certificate order, `CN=a, CN=b, OU=..., O=...`. */
  subject: string;
  /** SHA-1 of the DER, upper-case hex without separators (the Windows "thumbprint"). */
  thumbprint: string;
  /** SHA-256 of the DER, upper-case hex with colons (OpenSSL/node style). */
  fingerprint256: string;
  /** Every CN value, in order. */
  commonNames: string[];
  notAfter: string;
}

export function certificateInfoFromDer(der: Buffer): CertificateInfo {
  const cert = new X509Certificate(der);
  const parts = cert.subject.split('\n').filter(Boolean);
  return {
    subject: parts.join(', '),
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    fingerprint256: cert.fingerprint256,
    commonNames: parts.filter((p) => p.startsWith('CN=')).map((p) => p.slice(3)),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/**
 * The topology request carries the certificate as its PEM body without the BEGIN/END lines
 * (omsadmin.sh strips the first and last line); tolerate either form and any whitespace.
 */
export function certificateInfoFromPemBody(text: string): CertificateInfo {
  const b64 = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('AuthenticationCertificate is not base64');
  return certificateInfoFromDer(Buffer.from(b64, 'base64'));
}
