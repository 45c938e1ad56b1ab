import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPair, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { AgentOs } from './identity.js';

// @peculiar/x509 (also the fake cloud's certificate library) signs with WebCrypto.
x509.cryptoProvider.set(webcrypto as never);

export interface RsaKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
  /** The PEM body without its BEGIN/END lines, as omsadmin.sh puts it in AuthenticationCertificate. */
  pemBody: string;
  /** base64 DER on one line (what the Windows agent sends: cert.GetRawCertData()). */
  derBase64: string;
  /** RFC 4514-style, in the certificate's own RDN order: `CN=<ws>, CN=<guid>, OU=..., O=Microsoft`. */
  subject: string;
  /** SHA-1 of the DER, upper-case hex, as Windows shows it. */
  thumbprint: string;
}

/** OU of the certificate subject: the Linux agent's and the Windows agent's (MMA) own forms. */
export function organizationalUnit(os: AgentOs): string {
  return os === 'linux' ? 'Linux Monitoring Agent' : 'Microsoft Monitoring Agent';
}

const RSA_SIGN = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** One RSA 2048 key, generated off the main thread (50-250 ms each on this class of machine). */
export function generateRsaKeyPair(): Promise<RsaKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      { modulusLength: 2048, publicExponent: 0x10001, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (err, publicKeyPem, privateKeyPem) => (err ? reject(err) : resolve({ publicKeyPem, privateKeyPem })),
    );
  });
}

/**
 * A pool of RSA keys shared by many simulated agents, so a fleet of 200 does not spend 20-50 s
 * generating keys. Each agent still gets its own certificate (own subject, serial, thumbprint);
 * agents with the same pool slot share the key pair behind it. Keys are generated lazily; with
 * `cacheDir` they are kept as `agent-key-<n>.pem` and reused by later runs.
 */
export class KeyPool {
  readonly size: number;
  private readonly slots = new Map<number, Promise<RsaKeyPair>>();

  constructor(private readonly opts: { size: number; cacheDir?: string }) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new Error(`key pool size must be a positive integer, got ${opts.size}`);
    this.size = opts.size;
  }

  get(index: number): Promise<RsaKeyPair> {
    const slot = ((index % this.size) + this.size) % this.size;
    let p = this.slots.get(slot);
    if (!p) {
      p = this.load(slot);
      this.slots.set(slot, p);
      p.catch(() => this.slots.delete(slot));
    }
    return p;
  }

  /** Generates (or loads) every slot now, e.g. before a timed run. */
  async warm(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, (_, i) => this.get(i)));
  }

  private async load(slot: number): Promise<RsaKeyPair> {
    const file = this.opts.cacheDir ? join(this.opts.cacheDir, `agent-key-${slot}.pem`) : undefined;
    if (file) {
      try {
        const privateKeyPem = await readFile(file, 'utf8');
        const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }) as string;
        return { privateKeyPem, publicKeyPem };
      } catch {
        // not cached yet (or unreadable): generate below
      }
    }
    const pair = await generateRsaKeyPair();
    if (file) {
      await mkdir(this.opts.cacheDir!, { recursive: true });
      await writeFile(file, pair.privateKeyPem, { mode: 0o600 });
    }
    return pair;
  }
}

const sharedPools = new Map<string, KeyPool>();

/** A process-wide pool per (size, cacheDir), so successive fleets and tests reuse the same keys. */
export function sharedKeyPool(size = 16, cacheDir?: string): KeyPool {
  const key = `${size}:${cacheDir ?? ''}`;
  let pool = sharedPools.get(key);
  if (!pool) {
    pool = new KeyPool({ size, cacheDir });
    sharedPools.set(key, pool);
  }
  return pool;
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

const imported = new WeakMap<RsaKeyPair, Promise<{ privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey }>>();

/** WebCrypto handles for a key pair, imported once per pair (agents sharing a pool slot share them). */
function importedKeys(keys: RsaKeyPair): Promise<{ privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey }> {
  let p = imported.get(keys);
  if (!p) {
    p = (async () => ({
      privateKey: await webcrypto.subtle.importKey('pkcs8', pemToDer(keys.privateKeyPem), RSA_SIGN, false, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', pemToDer(keys.publicKeyPem), RSA_SIGN, true, ['verify']),
    }))();
    imported.set(keys, p);
  }
  return p;
}

/**
 * A self-signed client certificate like `openssl req -x509 -subj "/CN=<ws>/CN=<guid>/OU=<ou>/O=Microsoft"
 * -newkey rsa:2048 -days 365 -sha256` (omsadmin.sh generate_certs). The RDNs are encoded in exactly that
 * order.
 */
export async function createClientCertificate(opts: {
  workspaceId: string;
  agentGuid: string;
  os: AgentOs;
  keys: RsaKeyPair;
  notBefore: Date;
  serialNumber: string;
}): Promise<ClientCertificate> {
  const ou = organizationalUnit(opts.os);
  const { privateKey, publicKey } = await importedKeys(opts.keys);
  const name = [{ CN: [opts.workspaceId] }, { CN: [opts.agentGuid] }, { OU: [ou] }, { O: ['Microsoft'] }];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: opts.serialNumber,
    name: new x509.Name(name),
    notBefore: opts.notBefore,
    notAfter: new Date(opts.notBefore.getTime() + 365 * 24 * 3600 * 1000),
    signingAlgorithm: RSA_SIGN,
    keys: { privateKey, publicKey } as never,
  });
  const certPem = cert.toString('pem').replace(/\r\n/g, '\n').trim() + '\n';
  const der = Buffer.from(cert.rawData);
  const lines = certPem.trim().split('\n');
  return {
    certPem,
    keyPem: opts.keys.privateKeyPem,
    pemBody: lines.slice(1, -1).join('\n'),
    derBase64: der.toString('base64'),
    subject: `CN=${opts.workspaceId}, CN=${opts.agentGuid}, OU=${ou}, O=Microsoft`,
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
  };
}

/** Reads a certificate's subject in its own RDN order (for tests and diagnostics). */
export function certificateSubject(certPem: string): string {
  return new X509Certificate(certPem).subject.split('\n').join(', ');
}

/** An agent's certificate: a key from the pool (or a new one) and its own subject and serial. */
export async function agentCertificate(opts: { keyPool?: KeyPool; index: number; workspaceId: string; agentGuid: string; os: AgentOs; notBefore: Date; serialNumber: string }): Promise<ClientCertificate> {
  const keys = opts.keyPool ? await opts.keyPool.get(opts.index) : await generateRsaKeyPair();
  return createClientCertificate({ workspaceId: opts.workspaceId, agentGuid: opts.agentGuid, os: opts.os, keys, notBefore: opts.notBefore, serialNumber: opts.serialNumber });
}
