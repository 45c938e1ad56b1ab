import { sendConnect } from '../lib/connect/index.js';

/**
 * Deliberate, known-outcome CONNECTs: to a forbidden host (expected 403 → Rejection Count) or to
 * an allowed host mapped to a closed port (expected 502/504 → Error Count). Each opens one
 * connection from `localAddress` with the harness's CONNECT client, reads the status line and closes.
 */
export async function probeConnect(proxy: { host: string; port: number }, target: string, localAddress: string | undefined, timeoutMs = 10_000): Promise<number | 'error'> {
  try {
    const answer = await sendConnect({ proxy, authority: target, localAddress, timeoutMs });
    answer.socket.destroy();
    return answer.status ?? 'error';
  } catch {
    return 'error';
  }
}

export interface ProbeTally {
  forbiddenSent: number;
  rejectionsCaused: number;
  errorProbesSent: number;
  errorsCaused: number;
  /** Probe outcomes that were not the expected ones, by status. */
  unexpected: Record<string, number>;
}

export function emptyProbeTally(): ProbeTally {
  return { forbiddenSent: 0, rejectionsCaused: 0, errorProbesSent: 0, errorsCaused: 0, unexpected: {} };
}
