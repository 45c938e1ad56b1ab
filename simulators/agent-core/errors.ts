/** What went wrong on a call, in the terms an operator of the real agent would use. */
export type FailureKind =
  | 'proxy-refused' // the proxy answered the CONNECT with a non-2xx status (403 forbidden host, 405, 502...)
  | 'proxy-auth-required' // 407
  | 'proxy-unreachable' // TCP to the proxy failed (refused, reset, bind error)
  | 'tls' // handshake with the service failed (through an established tunnel)
  | 'http' // the service answered with a non-2xx status
  | 'timeout'
  | 'network' // the tunnel or connection broke mid-request
  | 'protocol'; // the service answered 200 with something the agent cannot use

/** Which call failed. */
export type AgentPhase =
  | 'onboard'
  | 'agent-service'
  | 'heartbeat'
  | 'upload'
  // Azure Monitor Agent (simulators/ama-agent): managed-identity token from the local IMDS, agent
  // configuration from the handler, ingestion token for a channel.
  | 'imds'
  | 'config'
  | 'ingestion-token';

export class AgentError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly details: {
      phase?: AgentPhase;
      /** host:port the agent tried to reach. */
      target?: string;
      /** Status from the proxy's CONNECT reply (kind proxy-refused / proxy-auth-required). */
      proxyStatus?: number;
      /** Status from the service (kind http). */
      statusCode?: number;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message);
    this.name = 'AgentError';
  }

  get phase(): AgentPhase | undefined {
    return this.details.phase;
  }
  get proxyStatus(): number | undefined {
    return this.details.proxyStatus;
  }
  get statusCode(): number | undefined {
    return this.details.statusCode;
  }
  get retryAfterMs(): number | undefined {
    return this.details.retryAfterMs;
  }

  withPhase(phase: AgentPhase): AgentError {
    return new AgentError(this.message, this.kind, { ...this.details, phase });
  }
}

/** Retry-After as delta-seconds or an HTTP date, relative to `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
