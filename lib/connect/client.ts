import net from 'node:net';
import tls from 'node:tls';
import { withDeadline, type Settle } from './deadline.js';

/**
 * The harness's one CONNECT client: TCP to a proxy (from a chosen loopback source address),
 * `CONNECT host:port`, the proxy's answer head, then optionally TLS inside the tunnel — all under
 * one deadline. Agents, the load driver, load probes and scenario probes are thin adapters that
 * turn a TunnelError into their own error vocabulary. (The gateway's relay to an upstream proxy is
 * the product's own code, in gateway/routes/.)
 */

export interface Endpoint {
  host: string;
  port: number;
}

/** Where a tunnel attempt stood when it ended. */
export type TunnelPhase = 'tcp' | 'connect' | 'tls';
/** How it ended: a socket error, the deadline, the peer closing, a non-2xx answer, an answer that is not HTTP, or the caller's abort. */
export type TunnelFailure = 'error' | 'timeout' | 'closed' | 'refused' | 'bad-reply' | 'aborted';

/** The proxy's answer to CONNECT. */
export interface ConnectAnswer {
  /** null when the first line is not `HTTP/1.x NNN ...`. */
  status: number | null;
  statusLine: string;
  /** Reason phrase of the status line ('' when absent). */
  statusText: string;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  /** Bytes after the blank line: the start of the tunnel, or a refusal's body. */
  rest: Buffer;
}

export class TunnelError extends Error {
  constructor(
    readonly phase: TunnelPhase,
    readonly failure: TunnelFailure,
    message: string,
    readonly answer?: ConnectAnswer,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The socket or TLS error code (ECONNREFUSED, ERR_SSL_...), when the failure was an error. */
  get code(): string | undefined {
    return (this.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

export interface TunnelRequest {
  /** The CONNECT proxy. Without it TCP goes straight to `direct` and no CONNECT is sent (a no-proxy baseline). */
  proxy?: Endpoint;
  direct?: Endpoint;
  /** `host:port` for the CONNECT line and Host header. */
  authority: string;
  /** Local address of the TCP connection (127.x.y.z: distinct clients on one machine). */
  localAddress?: string;
  /** Extra request headers (Proxy-Authorization, ...). */
  headers?: Record<string, string>;
  /** One deadline for TCP connect + CONNECT answer (+ TLS handshake). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Told when TCP is up (the load driver counts client connections from here). */
  onConnected?: (raw: net.Socket) => void;
  /** Told the proxy's answer, whatever its status. */
  onAnswer?: (answer: ConnectAnswer) => void;
  /**
   * The caller's checkServerIdentity reads only the leaf's subject and subjectaltname: hand it the
   * one-certificate form. Node's TLS client otherwise builds the detailed form (every certificate
   * of the chain as JS objects, with modulus, public key and fingerprints) on every handshake just
   * to pass it to that check — about 0.3-0.5 ms each, measured. OpenSSL still verifies the chain
   * against the CA as before; the socket's own getPeerCertificate is back to normal once secure.
   */
  leafOnlyIdentityCheck?: boolean;
}

/** A CONNECT answered (any status); the socket is open and the caller owns it. */
export interface RawTunnel extends ConnectAnswer {
  socket: net.Socket;
}

export interface TlsTunnel {
  socket: tls.TLSSocket;
  /** The proxy's answer; undefined without a proxy. */
  answer?: ConnectAnswer;
  /** Local side of the TCP connection to the proxy, to correlate with the gateway's 103 event. */
  localAddress?: string;
  localPort?: number;
}

const MAX_ANSWER_HEAD = 16 * 1024;

/** Sends CONNECT and resolves with the answer whatever its status (probes judge it). */
export function sendConnect(req: TunnelRequest & { proxy: Endpoint }): Promise<RawTunnel> {
  let phase: TunnelPhase = 'tcp';
  return withDeadline<RawTunnel>(deadline(req, () => phase), (s) => {
    const { raw, detach } = dial(req, s, () => phase);
    raw.once('connect', () => {
      phase = 'connect';
      readAnswer(req, raw, s, (answer) => {
        detach();
        s.resolve({ ...answer, socket: raw });
      });
    });
  });
}

/**
 * CONNECT (unless there is no proxy), then TLS inside the tunnel. A non-2xx answer rejects with
 * failure 'refused' and the answer attached.
 */
export function openTlsTunnel(req: TunnelRequest, tlsOptions: tls.ConnectionOptions): Promise<TlsTunnel> {
  let phase: TunnelPhase = 'tcp';
  return withDeadline<TlsTunnel>(deadline(req, () => phase), (s) => {
    const { raw, detach } = dial(req, s, () => phase);
    raw.once('connect', () => {
      const local = { localAddress: raw.localAddress, localPort: raw.localPort };
      const startTls = (answer?: ConnectAnswer): void => {
        phase = 'tls';
        const secure = tls.connect({ ...tlsOptions, socket: raw });
        if (req.leafOnlyIdentityCheck) {
          const own = tls.TLSSocket.prototype.getPeerCertificate;
          // An own property shadows the prototype's method until the handshake is done.
          Object.defineProperty(secure, 'getPeerCertificate', { configurable: true, writable: true, value: () => own.call(secure, false) });
        }
        s.onFail(() => secure.destroy());
        secure.once('secureConnect', () => {
          if (req.leafOnlyIdentityCheck) delete (secure as { getPeerCertificate?: unknown }).getPeerCertificate;
          if (s.settled) return;
          secure.removeListener('error', onTlsError);
          detach(); // raw socket errors are reported through the TLS socket from here on
          s.resolve({ socket: secure, answer, ...local });
        });
        const onTlsError = (err: Error): void => s.reject(new TunnelError('tls', 'error', `TLS handshake with ${req.authority} failed: ${err.message}`, answer, { cause: err }));
        secure.once('error', onTlsError);
      };
      if (!req.proxy) return startTls();
      phase = 'connect';
      readAnswer(req, raw, s, (answer) => {
        if (answer.status === null || answer.status < 200 || answer.status > 299) {
          s.reject(new TunnelError('connect', 'refused', `proxy answered CONNECT ${req.authority} with ${answer.statusLine}`, answer));
          return;
        }
        raw.pause(); // until TLS takes the socket over
        if (answer.rest.length) raw.unshift(answer.rest);
        startTls(answer);
      });
    });
  });
}

function deadline<T>(req: TunnelRequest, phase: () => TunnelPhase) {
  return {
    timeoutMs: req.timeoutMs,
    signal: req.signal,
    onTimeout: (s: Settle<T>) => s.reject(new TunnelError(phase(), 'timeout', `${describePhase(phase(), req)} took longer than ${req.timeoutMs} ms`)),
    onAbort: (s: Settle<T>) => s.reject(new TunnelError(phase(), 'aborted', `tunnel to ${req.authority} abandoned`)),
  };
}

function describePhase(phase: TunnelPhase, req: TunnelRequest): string {
  const to = req.proxy ?? req.direct;
  if (phase === 'tcp') return `TCP connect to ${to?.host}:${to?.port}`;
  if (phase === 'connect') return `the answer to CONNECT ${req.authority}`;
  return `the TLS handshake with ${req.authority}`;
}

/**
 * Opens TCP to the proxy (or the direct endpoint); every failure of the raw socket rejects until
 * `detach`, which leaves a no-op error listener (the owner reads 'close'; a late error must not crash the process).
 */
function dial<T>(req: TunnelRequest, s: Settle<T>, phase: () => TunnelPhase): { raw: net.Socket; detach: () => void } {
  const to = req.proxy ?? req.direct;
  if (!to) throw new TunnelError('tcp', 'error', 'a tunnel needs a proxy or a direct endpoint');
  const raw = net.connect({ host: to.host, port: to.port, localAddress: req.localAddress, noDelay: true });
  s.onFail(() => raw.destroy());
  raw.once('connect', () => req.onConnected?.(raw));
  const onError = (err: NodeJS.ErrnoException): void => s.reject(new TunnelError(phase(), 'error', `${describePhase(phase(), req)} failed: ${err.code ?? err.message}`, undefined, { cause: err }));
  const onClose = (): void => s.reject(new TunnelError(phase(), 'closed', `connection closed during ${describePhase(phase(), req)}`));
  raw.on('error', onError);
  raw.once('close', onClose);
  const detach = (): void => {
    raw.removeListener('error', onError);
    raw.removeListener('close', onClose);
    raw.on('error', () => undefined);
  };
  return { raw, detach };
}

/** Writes the CONNECT head and reads the answer head; bytes after it are handed over in `rest`. */
function readAnswer<T>(req: TunnelRequest & { proxy?: Endpoint }, raw: net.Socket, s: Settle<T>, onAnswer: (a: ConnectAnswer) => void): void {
  const lines = [`CONNECT ${req.authority} HTTP/1.1`, `Host: ${req.authority}`, ...Object.entries(req.headers ?? {}).map(([k, v]) => `${k}: ${v}`)];
  raw.write(lines.join('\r\n') + '\r\n\r\n');
  let buf: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_ANSWER_HEAD) s.reject(new TunnelError('connect', 'bad-reply', `CONNECT answer head larger than ${MAX_ANSWER_HEAD / 1024} KiB`));
      return;
    }
    raw.removeListener('data', onData);
    const answer = parseAnswer(buf.subarray(0, end).toString('latin1'), buf.subarray(end + 4));
    req.onAnswer?.(answer);
    onAnswer(answer);
  };
  raw.on('data', onData);
}

export function parseAnswer(head: string, rest: Buffer): ConnectAnswer {
  const [statusLine, ...headerLines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?:\s+(.*))?/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: m ? Number(m[1]) : null, statusLine, statusText: m?.[2] ?? '', headers, rest };
}
