import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KeyCert } from './types.js';

x509.cryptoProvider.set(webcrypto as never);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * A self-signed ECDSA P-256 certificate (fast to make, understood by TLS 1.2 and 1.3). The suite's
 * clients never verify the echo upstream's certificate: the cases are about what the proxy lets
 * through, not about the upstream's identity.
 */
export async function selfSigned(subject: string, dnsNames: string[] = []): Promise<KeyCert> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  if (dnsNames.length) extensions.push(new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01' + randomBytes(15).toString('hex'),
    name: subject,
    notBefore: new Date(Date.now() - 24 * 3600_000),
    notAfter: new Date(Date.now() + 30 * 24 * 3600_000),
    signingAlgorithm: EC as never,
    keys: keys as never,
    extensions,
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { subject, certPem: cert.toString('pem') + '\n', keyPem };
}
