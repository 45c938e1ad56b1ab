/**
 * Passive TLS inspection of one tunnel: fed the bytes of both directions as they pass, it reads the
 * first flights (never terminates TLS) and returns a verdict as soon as the policy can decide:
 *
 *   ClientHello        -> 106 if no offered version is allowed; 105 on SNI mismatch / missing SNI (policy)
 *   ServerHello        -> 106 if the selected version is not allowed; TLS 1.3 -> verified, or 106 when a
 *                         client allowlist is configured (the certificate is encrypted; policy tls13ClientCertificate)
 *   server flight      -> CertificateRequest noted; ServerHelloDone without a request -> verified;
 *                         ChangeCipherSpec right after ServerHello (resumption) -> verified
 *   client Certificate -> empty: missingClientCertificate policy; else subject vs allowlist -> verified / 105
 *   anything malformed, alerts, non-TLS bytes, oversized messages -> 402
 *
 * Never throws; the verdict is final and later calls return it at no cost.
 */
import { normaliseHost } from '../allowlist/host-pattern.js';
import { certificateSubject } from './certificate-subject.js';
import { compiledClientAllowlist } from './client-allowlist.js';
import {
  HandshakeType,
  handshakeName,
  parseCertificateList,
  parseClientHello,
  parseServerHello,
  type ClientHelloInfo,
} from './handshake.js';
import { describeAllowed, settingToAllow } from './policy.js';
import { alertText, malformed, RecordStream, type RecordHandler, type Verdict } from './record-stream.js';
import type { InspectionOutcome, TlsPolicy } from './types.js';
import { allowedVersions, isGrease, TLS13, tlsVersionName, versionName } from './versions.js';

export interface TlsInspectorOptions {
  /** Host of the CONNECT request (compared with the SNI). */
  connectHost: string;
  policy: TlsPolicy;
  /** Entries of allowedlist_client.txt; empty = any client certificate. */
  clientAllowlist: readonly string[];
}

const PENDING: InspectionOutcome = Object.freeze({ kind: 'pending' });

/** Server messages that may sit between ServerHello and ServerHelloDone in TLS <= 1.2. */
const SERVER_FLIGHT_TYPES = new Set<number>([
  HandshakeType.Certificate,
  HandshakeType.ServerKeyExchange,
  HandshakeType.CertificateRequest,
  HandshakeType.CertificateStatus,
  HandshakeType.SupplementalData,
  HandshakeType.NewSessionTicket,
]);

function rejected(eventId: 105 | 106, message: string): Verdict {
  return { kind: 'rejected', eventId, message };
}

export class TlsInspector {
  private readonly connectHost: string;
  private readonly policy: TlsPolicy;
  private readonly allowlistEntries: readonly string[];
  private readonly allowed: number[];
  private readonly client: RecordStream;
  private readonly server: RecordStream;
  private verdict: Verdict | undefined;

  private hello: ClientHelloInfo | undefined;
  /** Version chosen by the server's ServerHello (TLS <= 1.2 from here on). */
  private version: number | undefined;
  private certificateRequested = false;
  private serverHelloDone = false;
  private notes: string[] = [];

  constructor(options: TlsInspectorOptions) {
    this.connectHost = options.connectHost;
    this.policy = options.policy;
    this.allowlistEntries = options.clientAllowlist;
    this.allowed = allowedVersions(options.policy);
    this.client = new RecordStream('client', options.policy.maxBufferBytes, this.clientHandler());
    this.server = new RecordStream('server', options.policy.maxBufferBytes, this.serverHandler());
  }

  /** Bytes the client sent into the tunnel. */
  feedClient(chunk: Buffer): InspectionOutcome {
    return this.feed(this.client, chunk);
  }

  /** Bytes the upstream sent back. */
  feedServer(chunk: Buffer): InspectionOutcome {
    return this.feed(this.server, chunk);
  }

  /** The verdict so far (pending until decided). */
  get outcome(): InspectionOutcome {
    return this.verdict ?? PENDING;
  }

  /** Bytes held for incomplete handshake messages, per direction; never above policy.maxBufferBytes. */
  bufferedBytes(): { client: number; server: number } {
    return { client: this.client.bufferedBytes, server: this.server.bufferedBytes };
  }

  private feed(stream: RecordStream, chunk: Buffer): InspectionOutcome {
    if (this.verdict) return this.verdict;
    try {
      const verdict = stream.feed(chunk);
      if (verdict) this.verdict = verdict;
    } catch (err) {
      // Defensive: the parsers do not throw, but a tunnel must never crash the gateway.
      this.verdict = malformed(`TLS inspection failed: ${(err as Error)?.message ?? String(err)}`);
    }
    return this.verdict ?? PENDING;
  }

  private versionList(versions: readonly number[]): string {
    return versions.length ? versions.map(versionName).join(', ') : 'none';
  }

  private verified(extraNote?: string): Verdict {
    const version = tlsVersionName(this.version ?? 0) ?? 'TLSv1.2';
    const notes = extraNote ? [...this.notes, extraNote] : this.notes;
    return {
      kind: 'verified',
      version,
      ...(this.hello?.sni !== undefined ? { sni: this.hello.sni } : {}),
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  }

  /**
   * Warning alerts (other than close_notify) do not end a TLS <= 1.2 handshake; some servers send a
   * warning unrecognized_name and carry on. Fatal alerts and close_notify end it: 402.
   */
  private onAlert(side: 'client' | 'server', level: number, description: number): Verdict | undefined {
    if (level === 1 && description !== 0) return undefined;
    return malformed(`${side} sent TLS alert ${alertText(level, description)} during the handshake`);
  }

  // ---- client direction ------------------------------------------------------------------------

  private clientHandler(): RecordHandler {
    return {
      keepBody: (type) => type === HandshakeType.ClientHello || type === HandshakeType.Certificate,
      onHandshake: (type, body) => {
        if (!this.hello) {
          if (type !== HandshakeType.ClientHello) {
            return malformed(`client's first handshake message is ${handshakeName(type)}, expected ClientHello (1)`);
          }
          return this.onClientHello(body ?? Buffer.alloc(0));
        }
        if (this.version === undefined) {
          return malformed(`client sent ${handshakeName(type)} before the server's ServerHello`);
        }
        if (!this.serverHelloDone) {
          return malformed(`client sent ${handshakeName(type)} before the server's ServerHelloDone`);
        }
        // Only reached when a certificate was requested: otherwise the verdict came at ServerHelloDone.
        if (type === HandshakeType.Certificate) return this.onClientCertificate(body ?? Buffer.alloc(0));
        if (type === HandshakeType.ClientKeyExchange) return this.onNoClientCertificate('it went on to ClientKeyExchange');
        return malformed(`client sent ${handshakeName(type)} where its Certificate was expected`);
      },
      onChangeCipherSpec: () => {
        if (!this.hello) return malformed('client sent ChangeCipherSpec before its ClientHello');
        if (this.version === undefined && this.hello.offeredVersions.includes(TLS13)) {
          // TLS 1.3 middlebox-compatibility CCS (possibly followed by early data): the verdict now
          // depends on the ServerHello alone, unless the server falls back to 1.2 (see below).
          this.client.ignoreRest = true;
          return undefined;
        }
        if (this.serverHelloDone && this.certificateRequested) return this.onNoClientCertificate('it went on to ChangeCipherSpec');
        return malformed('client sent ChangeCipherSpec before the server finished its hello flight');
      },
      onApplicationData: () => {
        if (this.hello?.earlyData && this.version === undefined) {
          this.client.ignoreRest = true; // TLS 1.3 0-RTT data
          return undefined;
        }
        return malformed('client sent application data before the TLS handshake completed');
      },
      onAlert: (level, description) => this.onAlert('client', level, description),
    };
  }

  private onClientHello(body: Buffer): Verdict | undefined {
    const parsed = parseClientHello(body);
    if (typeof parsed === 'string') return malformed(parsed);
    this.hello = parsed;

    const usable = parsed.offeredVersions.filter((v) => this.allowed.includes(v));
    if (usable.length === 0) {
      // Name the setting for the client's best offer: that is the version it would then use.
      const best = Math.max(...parsed.offeredVersions.filter((v) => !isGrease(v)), 0);
      return rejected(
        106,
        `Unsupported TLS version: the client offers only ${this.versionList(parsed.offeredVersions)}; the gateway allows ${describeAllowed(this.policy)}; ${settingToAllow(best, this.policy)}`,
      );
    }

    const host = normaliseHost(this.connectHost);
    if (parsed.sni === undefined) {
      if (this.policy.missingSni === 'reject') {
        return rejected(105, `ClientHello has no SNI; the policy requires one naming the CONNECT host (${this.connectHost})`);
      }
      this.notes.push('no SNI in ClientHello (allowed by policy)');
    } else if (this.policy.requireSniMatch && normaliseHost(parsed.sni) !== host) {
      return rejected(105, `SNI (${parsed.sni}) does not match CONNECT host (${this.connectHost})`);
    }
    return undefined;
  }

  private onClientCertificate(body: Buffer): Verdict {
    const parsed = parseCertificateList(body);
    if (typeof parsed === 'string') return malformed(parsed);
    if (!parsed.leaf) return this.onNoClientCertificate('its Certificate message was empty');
    const read = certificateSubject(parsed.leaf);
    if (!read.ok) return malformed(`client Certificate: the leaf certificate is not valid X.509 DER (${read.error})`);
    const subject = read.subject;
    if (!compiledClientAllowlist(this.allowlistEntries).allows(subject)) {
      return rejected(105, `Invalid Client certificate: ${subject}`);
    }
    const verdict = this.verified();
    return verdict.kind === 'verified' ? { ...verdict, clientSubject: subject } : verdict;
  }

  private onNoClientCertificate(how: string): Verdict {
    if (this.policy.missingClientCertificate === 'reject') {
      return rejected(105, `Invalid Client certificate: none presented (the server requested one and ${how})`);
    }
    return this.verified('the server requested a client certificate and the client sent none (allowed by policy)');
  }

  // ---- server direction ------------------------------------------------------------------------

  private serverHandler(): RecordHandler {
    return {
      keepBody: (type) => type === HandshakeType.ServerHello || type === HandshakeType.ServerHelloDone,
      onHandshake: (type, body, length) => {
        if (!this.hello) return malformed(`server sent ${handshakeName(type)} before the client's ClientHello`);
        if (this.version === undefined) {
          if (type !== HandshakeType.ServerHello) {
            return malformed(`server's first handshake message is ${handshakeName(type)}, expected ServerHello (2)`);
          }
          return this.onServerHello(body ?? Buffer.alloc(0));
        }
        if (this.serverHelloDone) {
          return malformed(`server sent ${handshakeName(type)} after ServerHelloDone, before the client answered`);
        }
        if (type === HandshakeType.ServerHelloDone) {
          if (length !== 0) return malformed(`server ServerHelloDone has ${length} bytes of body, must be empty`);
          this.serverHelloDone = true;
          if (!this.certificateRequested) return this.verified();
          if (this.client.ignoreRest) {
            return malformed('the server fell back to TLS <= 1.2 and requested a certificate after the client had switched to TLS 1.3 encryption');
          }
          return undefined;
        }
        if (type === HandshakeType.CertificateRequest) this.certificateRequested = true;
        else if (!SERVER_FLIGHT_TYPES.has(type)) {
          return malformed(`server sent ${handshakeName(type)} in its ${versionName(this.version)} hello flight`);
        }
        return undefined;
      },
      onChangeCipherSpec: () => {
        if (this.version !== undefined && !this.serverHelloDone && !this.certificateRequested) {
          return this.verified('abbreviated handshake (session resumption): no certificates exchanged');
        }
        if (this.version === undefined) return malformed('server sent ChangeCipherSpec before its ServerHello');
        return malformed('server sent ChangeCipherSpec in the middle of its hello flight');
      },
      onApplicationData: () => malformed('server sent application data before the TLS handshake completed'),
      onAlert: (level, description) => this.onAlert('server', level, description),
    };
  }

  private onServerHello(body: Buffer): Verdict | undefined {
    const parsed = parseServerHello(body);
    if (typeof parsed === 'string') return malformed(parsed);
    const selected = parsed.selectedVersion;
    const hello = this.hello as ClientHelloInfo;
    if (!hello.offeredVersions.includes(selected)) {
      return malformed(
        `server selected ${versionName(selected)}, which the client did not offer (${this.versionList(hello.offeredVersions)})`,
      );
    }
    if (!this.allowed.includes(selected)) {
      return rejected(
        106,
        `Unsupported TLS version: the server selected ${versionName(selected)}; the gateway allows ${describeAllowed(this.policy)}; ${settingToAllow(selected, this.policy)}`,
      );
    }
    this.version = selected;
    if (selected === TLS13) return this.onTls13();
    return undefined;
  }

  /**
   * Everything after a TLS 1.3 ServerHello is encrypted, the client certificate included. Without a
   * client allowlist there is nothing to check. With one, the default fails closed (106): letting
   * the session through would silently bypass the allowlist the operator configured.
   */
  private onTls13(): Verdict {
    const entries = this.allowlistEntries.length;
    if (entries === 0) return this.verified('TLS 1.3: the client certificate is encrypted; no client allowlist to check it against');
    if (this.policy.tls13ClientCertificate === 'allow') {
      return this.verified(`TLS 1.3: the client certificate is encrypted and was NOT checked against the client allowlist (${entries} subject(s)) (tls.tls13ClientCertificate "allow")`);
    }
    return rejected(
      106,
      `Unsupported TLS version: the server selected TLSv1.3, which encrypts the client certificate, and the client allowlist has ${entries} subject(s) to check it against; ` +
        'to let TLS 1.3 through unchecked set tls.tls13ClientCertificate "allow"; to keep the check, the agent or the server must use TLS 1.2 (or empty allowedlist_client.txt)',
    );
  }
}
