import net from 'node:net';

/**
 * Deliberate, known-outcome CONNECTs: to a forbidden host (expected 403 → Rejection Count) or to
 * an allowed host mapped to a closed port (expected 502/504 → Error Count). Each opens one
 * connection from `localAddress`, reads the status line and closes.
 */
export function probeConnect(proxy: { host: string; port: number }, target: string, localAddress: string | undefined, timeoutMs = 10_000): Promise<number | 'error'> {
  return new Promise((resolve) => {
    const s = net.connect({ host: proxy.host, port: proxy.port, localAddress });
    let buf = '';
    let done = false;
    const finish = (v: number | 'error'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish('error'), timeoutMs);
    s.once('connect', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (m) finish(Number(m[1]));
      else if (buf.length > 4096) finish('error');
    });
    s.on('error', () => finish('error'));
    s.on('close', () => finish('error'));
  });
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
