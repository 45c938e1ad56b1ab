import type { Socket } from 'node:net';

/** The event ids the suite counts per section (docs/gateway.md "Events"). */
export const COUNTED_EVENTS = [103, 104, 105, 106, 107, 402, 403] as const;
export type CountedEvent = (typeof COUNTED_EVENTS)[number];
export type EventTally = Partial<Record<CountedEvent, number>>;

export type Verdict =
  | { status: 'pass'; seen: string }
  | { status: 'fail'; expected: string; seen: string }
  | { status: 'not-observable'; why: string };

/** TLS versions a gateway accepts: today's documentation (1.0–1.3) or the 2016 preview (1.0–1.2). */
export type TlsPolicyName = 'current' | 'preview-2016';

export interface SectionDef {
  id: number;
  key: string;
  title: string;
}

/** One numbered case of the specification: what is checked, where the rule comes from, how it is seen from outside. */
export interface CaseDef {
  /** `<section>.<n>`, e.g. "5.4". */
  id: string;
  section: number;
  behaviour: string;
  source: string;
  observed: string;
  /** The TLS policy this case assumes, when its expectation depends on one. */
  policy?: string;
  run(ctx: CaseContext): Promise<Verdict>;
}

export interface GatewayTarget {
  host: string;
  port: number;
}

export interface SuiteOptions {
  gateway: GatewayTarget;
  /** omsgw management API, when the gateway under test has one. */
  admin?: string;
  /** Credentials the gateway under test requires from clients (Proxy-Authorization: Basic). */
  proxyAuth?: string;
  /** Credentials the suite's relay requires; the gateway under test must send them when it chains through the relay. */
  relayAuth?: string;
  tlsPolicy: TlsPolicyName;
  /** The gateway's time limit for a complete CONNECT head, as configured (ms). */
  headTimeoutMs: number;
  /** The gateway's idle-tunnel timeout, when known (ms); the idle case is not observable without it. */
  idleTimeoutMs?: number;
  cloudPort: number;
  echoPort: number;
  relayPort: number;
  /** Case ids to run (all when absent). */
  cases?: string[];
  workspaceId: string;
  stateDir: string;
}

export interface UpstreamMark {
  echo: number;
  relay: number;
}

export interface UpstreamSeen {
  /** Connections the echo upstream accepted since the mark: SNI seen (TLS), client bytes received, application bytes. */
  echo: { sni?: string; bytesIn: number; appBytes: number; raw: boolean }[];
  /** Requests the relay received since the mark: request line and Proxy-Authorization. */
  relay: { requestLine: string; authority?: string; proxyAuthorization?: string }[];
}

export interface CaseContext {
  options: SuiteOptions;
  /** Loopback source address of this section (distinct per section, so Connected Client moves by one). */
  bind: string;
  /** Adds to the events this case makes an OMS gateway log (compared after the section when --admin is given). */
  expectEvents(tally: EventTally): void;
  /** Opens a TCP connection to the gateway under test from this section's source address. */
  connectToGateway(): Promise<Socket>;
  /** The Proxy-Authorization header line to send (with trailing CRLF), '' when the run has no proxy auth. */
  authLine(): string;
  /**
   * Where the upstreams' records stand, taken after one event-loop turn: the connection a previous
   * case's tunnel opened is already accepted by the kernel when its 2xx arrives, but its 'connection'
   * callback can run after the reply's in the same poll, i.e. after a mark taken right away.
   */
  mark(): Promise<UpstreamMark>;
  seenSince(mark: UpstreamMark): UpstreamSeen;
  /**
   * Positive control on the same clock: a tunnel to the barrier host that must reach the echo
   * upstream. Anything the gateway forwarded before it has arrived by then.
   */
  barrier(): Promise<void>;
  /** Whether the route check saw the gateway's tunnels arrive through the suite's relay. */
  viaRelay: boolean;
  /** Client certificates for the TLS cases. */
  certs: { allowed: KeyCert; intruder: KeyCert };
}

export interface KeyCert {
  subject: string;
  certPem: string;
  keyPem: string;
}

/** A case as the report shows it: its definition (without the code) and what running it gave. */
export interface CaseResult extends Omit<CaseDef, 'run'> {
  verdict: Verdict;
  durationMs: number;
}

export interface SuiteReport {
  gateway: string;
  admin?: string;
  tlsPolicy: TlsPolicyName;
  startedAt: string;
  durationMs: number;
  sections: SectionDef[];
  results: CaseResult[];
  totals: { pass: number; fail: number; notObservable: number };
}
