/**
 * Test-side clients for the fake cloud, written from the published protocol and independent of
 * the server code: signatures, certificates and XML are built here.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { createHash, createHmac, randomUUID, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

export interface ClientCert {
  certPem: string;
  keyPem: string;
  agentId: string;
  /** PEM body without BEGIN/END lines, as omsadmin.sh puts it in the request. */
  pemBody: string;
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };

function pem(der: ArrayBuffer, label: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/** Self-signed agent certificate, subject as the real agents make it. */
export async function makeAgentCert(workspaceId: string, os: 'linux' | 'windows', agentId = randomUUID()): Promise<ClientCert> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ou = os === 'linux' ? 'Linux Monitoring Agent' : 'Microsoft Monitoring Agent';
  const subject = os === 'linux' ? `CN=${workspaceId}, CN=${agentId}, OU=${ou}, O=Microsoft` : `CN=${agentId}, CN=${workspaceId}, OU=${ou}, O=Microsoft`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
    signingAlgorithm: RSA as never,
    keys: keys as never,
  });
  const certPem = cert.toString('pem');
  const lines = certPem.trim().split('\n');
  return { certPem, keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'), agentId, pemBody: lines.slice(1, -1).join('\n') };
}

export function topologyXml(fields: { fqdn?: string; agentId?: string; pemBody?: string; extra?: string }): string {
  const el = (name: string, v: string | undefined) => (v === undefined ? '' : `<${name}>${v}</${name}>`);
  return (
    '<?xml version="1.0"?>\n<AgentTopologyRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.microsoft.com/WorkloadMonitoring/HealthServiceProtocol/2014/09/">' +
    el('FullyQualfiedDomainName', fields.fqdn) +
    el('EntityTypeId', fields.agentId) +
    el('AuthenticationCertificate', fields.pemBody) +
    (fields.extra ?? '') +
    '<OperatingSystem><Name>Ubuntu</Name><Manufacturer>Canonical Group Limited</Manufacturer><ProcessorArchitecture>x64</ProcessorArchitecture><Version>16.04</Version><InContainer>False</InContainer><Telemetry PercentUserTime="0" PercentPrivilegedTime="0" UsedMemory="0" PercentUsedMemory="0"></Telemetry></OperatingSystem>' +
    '</AgentTopologyRequest>'
  );
}

/** Headers exactly as omsadmin.sh computes them (auth_key.rb). */
export function signedHeaders(workspaceId: string, key: string, body: string, date: string): Record<string, string> {
  const hash = createHash('sha256').update(body).digest('base64');
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${date}\n${hash}\n`).digest('base64');
  return {
    'x-ms-Date': date,
    'x-ms-version': 'August, 2014',
    'x-ms-SHA256_Content': hash,
    Authorization: `${workspaceId}; ${sig}`,
    'User-Agent': 'LinuxMonitoringAgent/1.0.0-1',
    'Accept-Language': 'en-US',
    'Content-Type': 'application/x-www-form-urlencoded',
  };
}

/** `date +%Y-%m-%dT%T.%N%:z` for a UTC instant. */
export function omsadminDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000+00:00');
}

export interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The TLS version the handshake settled on (from the client's socket). */
  tlsVersion: string | null;
}

export interface ReqOpts {
  port: number;
  host: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  ca: string;
  cert?: ClientCert;
  viaConnect?: boolean;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  timeoutMs?: number;
}

/** CONNECT through the cloud port, resolving with the tunnel socket. */
export function connectTunnel(port: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: target, agent: false });
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`CONNECT ${target}: ${res.statusCode}`));
      }
    });
    req.once('error', reject);
    req.end();
  });
}

export async function openTls(o: Omit<ReqOpts, 'path'>): Promise<tls.TLSSocket> {
  const base: tls.ConnectionOptions = {
    servername: o.host,
    ca: o.ca,
    cert: o.cert?.certPem,
    key: o.cert?.keyPem,
    minVersion: o.minVersion,
    maxVersion: o.maxVersion,
    ALPNProtocols: ['http/1.1'],
  };
  const socket = o.viaConnect ? await connectTunnel(o.port, `${o.host}:443`) : undefined;
  return new Promise((resolve, reject) => {
    const s = socket ? tls.connect({ ...base, socket }) : tls.connect({ ...base, host: '127.0.0.1', port: o.port });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One HTTPS request (HTTP/1.1 over our own TLS socket) over a fresh TLS connection (direct with SNI, or through CONNECT). */
export async function request(o: ReqOpts): Promise<Resp> {
  const socket = await openTls(o);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { method: o.method ?? 'POST', path: o.path, headers: { host: o.host, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}), ...o.headers }, createConnection: () => socket },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const tlsVersion = socket.getProtocol();
          socket.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), tlsVersion });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('timeout')), o.timeoutMs ?? 10_000);
    req.once('close', () => clearTimeout(timer));
    req.once('error', (e) => {
      socket.destroy();
      reject(e);
    });
    req.end(o.body);
  });
}

export function reasonOf(xml: string): string | undefined {
  return /<Reason>(.*)<\/Reason>/.exec(xml)?.[1];
}
