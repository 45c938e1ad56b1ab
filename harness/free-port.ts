import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** An ephemeral port on `host` for programs that cannot report the port they bound (squid, tinyproxy, haproxy). */
export function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP on host:port now (false on refusal, error or `timeoutMs` without an answer). */
export function acceptsTcp(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const c = net.connect({ host, port });
    const done = (ok: boolean): void => {
      c.destroy();
      resolve(ok);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.setTimeout(timeoutMs, () => done(false));
  });
}

/** Polls until something accepts TCP on 127.0.0.1:port, or throws after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await acceptsTcp(port)) return;
    if (!isAlive()) throw new Error(`process exited before listening on 127.0.0.1:${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
