import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchCerts {
  /** Upstream server certificate (self-signed; clients trust it as their CA). */
  serverCert: string;
  serverKey: string;
  /** Client certificate the driver presents, subject like an agent's. */
  clientCert: string;
  clientKey: string;
  /** As the gateway's client allowlist spells it (OpenSSL one-line order). */
  clientSubject: string;
  files: { serverCert: string; serverKey: string; clientCert: string; clientKey: string };
}

/**
 * `ec` (P-256, default): handshakes cheap enough that the proxies, not the endpoints' RSA
 * signatures, set the new-tunnel rate. `rsa`: RSA 2048 like the real agents' certificates.
 */
export type BenchKeyType = 'ec' | 'rsa';

function selfSigned(dir: string, name: string, subject: string, keyType: BenchKeyType): { cert: string; key: string; certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const newkey = keyType === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  try {
    execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-sha256', '-days', '30', '-subj', subject, '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`could not create the bench certificates with the openssl command (is openssl installed?): ${(err as Error).message}`);
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

/**
 * Generates the bench's certificates (self-signed; P-256 or RSA 2048) into `dir` with the openssl
 * command: one for the upstream server, one for the client (so the TLS 1.2 handshake carries
 * a Certificate message the gateway's inspector reads).
 */
export function generateBenchCerts(dir: string, keyType: BenchKeyType = 'ec', workspaceId = '00000000-0000-4000-8000-00000000bec4'): BenchCerts {
  mkdirSync(dir, { recursive: true });
  const server = selfSigned(dir, 'server', '/O=omsgw bench/CN=omsgw bench upstream', keyType);
  const client = selfSigned(dir, 'client', `/O=Microsoft/OU=Linux Monitoring Agent/CN=${workspaceId}`, keyType);
  return {
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    clientSubject: `CN=${workspaceId}, OU=Linux Monitoring Agent, O=Microsoft`,
    files: { serverCert: server.certFile, serverKey: server.keyFile, clientCert: client.certFile, clientKey: client.keyFile },
  };
}
