import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { InputError } from '../lib/errors.js';
import { ensureStateDir } from '../lib/state-dir.js';

// @peculiar/x509 is typed against the DOM's Crypto; node's webcrypto implements it.
x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const RSA: webcrypto.RsaHashedKeyGenParams & webcrypto.RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
/**
 * The server leaf certificates' key. A lab choice: every TLS handshake the cloud serves makes one
 * signature with it (the agents open a new connection per upload), and an ECDSA P-256 signature costs
 * the server a small fraction of an RSA 2048 one. The CA stays RSA 2048 and signs the leaves with it.
 */
const LEAF_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

export interface LabCa {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
  /** True when this call created the files (false: reused from stateDir). */
  created: boolean;
}

/**
 * The lab certificate authority lives in `stateDir` (ca.pem, ca-key.pem): created on first use,
 * reused afterwards so agents configured once keep trusting it. Written exclusively ('wx') so two
 * processes racing on a fresh folder end up with one CA.
 */
export async function loadOrCreateLabCa(stateDir: string): Promise<LabCa> {
  // the default .omsgw/cloud needs two new levels; a path missing deeper than that is a typo, refused
  ensureStateDir(stateDir, 'state folder for the lab CA', 3);
  const certPath = join(stateDir, 'ca.pem');
  const keyPath = join(stateDir, 'ca-key.pem');
  const haveCert = existsSync(certPath);
  const haveKey = existsSync(keyPath);
  if (haveCert !== haveKey) {
    throw new InputError(`${haveCert ? keyPath : certPath} is missing while ${haveCert ? certPath : keyPath} exists; delete both to regenerate the lab CA`);
  }
  if (!haveCert) {
    const ca = await generateCaCertificate();
    try {
      writeFileSync(keyPath, ca.key, { flag: 'wx', mode: 0o600 });
      writeFileSync(certPath, ca.cert, { flag: 'wx' });
      return { certPem: ca.cert, keyPem: ca.key, certPath, keyPath, created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another process won the race; fall through and read its files.
    }
  }
  const certPem = readFileSync(certPath, 'utf8');
  const keyPem = readFileSync(keyPath, 'utf8');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new InputError(`${certPath} is not a PEM certificate (${(err as Error).message}); delete ca.pem and ca-key.pem to regenerate`);
  }
  if (!/-----BEGIN PRIVATE KEY-----/.test(keyPem)) throw new InputError(`${keyPath} is not a PKCS#8 PEM private key; delete ca.pem and ca-key.pem to regenerate`);
  // A key from another CA would sign server certificates that no agent trusting ca.pem accepts.
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new InputError(`${keyPath} is not a usable private key (${(err as Error).message}); delete ca.pem and ca-key.pem to regenerate`);
  }
  if (!matches) throw new InputError(`${keyPath} is not the private key of ${certPath} (files from two different CAs?); delete both to regenerate the lab CA`);
  if (!cert.ca) throw new InputError(`${certPath} is not a CA certificate (basicConstraints CA:FALSE); delete ca.pem and ca-key.pem to regenerate`);
  return { certPem, keyPem, certPath, keyPath, created: false };
}

async function generateCaCertificate(): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 24 * 3600_000);
  const notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01' + randomBytes(15).toString('hex'),
    name: 'CN=omsgw lab CA - testing only, O=omsgw lab',
    notBefore,
    notAfter,
    signingAlgorithm: RSA as never,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
}

function pemToDer(pem: string): ArrayBuffer {
  const b = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function toPem(der: ArrayBuffer, label: string): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface ServerCertificate {
  host: string;
  certPem: string;
  keyPem: string;
}

/**
 * Issues server certificates for any hostname from the lab CA. One ECDSA P-256 key pair (LEAF_KEY) is
 * shared by all leaf certificates (no key to generate per host); certificates are cached.
 */
export class ServerCertificateIssuer {
  private cache = new Map<string, Promise<ServerCertificate>>();
  private signer?: Promise<{ caKey: CryptoKey; caCert: x509.X509Certificate; leaf: CryptoKeyPair; leafKeyPem: string }>;

  constructor(private readonly ca: Pick<LabCa, 'certPem' | 'keyPem'>) {}

  private init() {
    this.signer ??= (async () => {
      const caKey = await webcrypto.subtle.importKey('pkcs8', pemToDer(this.ca.keyPem), RSA, false, ['sign']);
      const caCert = new x509.X509Certificate(this.ca.certPem);
      const leaf = (await webcrypto.subtle.generateKey(LEAF_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
      const leafKeyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', leaf.privateKey), 'PRIVATE KEY');
      return { caKey, caCert, leaf, leafKeyPem };
    })();
    return this.signer;
  }

  certificateFor(hostname: string): Promise<ServerCertificate> {
    const host = hostname.toLowerCase();
    let p = this.cache.get(host);
    if (!p) {
      p = this.issue(host);
      this.cache.set(host, p);
      p.catch(() => this.cache.delete(host));
    }
    return p;
  }

  private async issue(host: string): Promise<ServerCertificate> {
    const { caKey, caCert, leaf, leafKeyPem } = await this.init();
    const notBefore = new Date(Date.now() - 24 * 3600_000);
    const notAfter = new Date(Date.now() + 45 * 24 * 3600_000);
    const isIp = /^[\d.]+$|:/.test(host);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '01' + randomBytes(15).toString('hex'),
      subject: `CN=${host}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: RSA as never,
      publicKey: leaf.publicKey as never,
      signingKey: caKey as never,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        // An ECDSA key only signs (ECDHE handshakes): keyEncipherment belongs to RSA key transport.
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: isIp ? 'ip' : 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    // The leaf alone, as servers send it: a root is a trust anchor the client already holds (RFC 8446
    // 4.4.2 lets it be left out), and every agent would parse it again on every handshake.
    return { host, certPem: cert.toString('pem') + '\n', keyPem: leafKeyPem };
  }
}
