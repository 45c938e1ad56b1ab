import net from 'node:net';
import { HaproxyNotInstalledError, findHaproxy, parseServersState, startHaproxy, type HaproxyHandle } from '../haproxy.js';

/** A TCP backend that greets each connection with its name and counts connections. */
async function namedBackend(name: string): Promise<{ server: net.Server; port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.end(`${name}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function greeting(port: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.once('error', reject);
    s.once('close', () => resolve(data.trim()));
    s.setTimeout(5000, () => s.destroy(new Error('no greeting within 5 s')));
  });
}

describe('haproxy harness', () => {
  it('reports a missing binary with an install hint instead of skipping', async () => {
    await expect(startHaproxy({ binary: '/nonexistent/haproxy', backends: [{ name: 'a', host: '127.0.0.1', port: 1 }] })).rejects.toThrow(
      HaproxyNotInstalledError,
    );
    await expect(startHaproxy({ binary: '/nonexistent/haproxy', backends: [{ name: 'a', host: '127.0.0.1', port: 1 }] })).rejects.toThrow(
      /apt-get install -y haproxy/,
    );
  });

  it('refuses non-loopback backends and bad settings before starting anything', async () => {
    await expect(startHaproxy({ backends: [{ name: 'a', host: '10.0.0.1', port: 80 }] })).rejects.toThrow(/loopback/);
    await expect(startHaproxy({ backends: [{ name: 'a', host: '127.0.0.1', port: 70000 }] })).rejects.toThrow(/port/);
    await expect(startHaproxy({ backends: [] })).rejects.toThrow(/at least one backend/);
  });

  it('parses the runtime API server state table', () => {
    const text = [
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight',
      '3 gateways 1 gw1 127.0.0.1 2 0 1',
      '3 gateways 2 gw2 127.0.0.1 0 0 1',
      '3 gateways 3 gw3 127.0.0.1 2 1 1',
    ].join('\n');
    expect(parseServersState(text)).toEqual({ gw1: 'UP', gw2: 'DOWN', gw3: 'MAINT' });
  });

  describe('with two TCP backends', () => {
    if (!findHaproxy()) {
      it('needs haproxy installed', () => {
        throw new HaproxyNotInstalledError();
      });
      return;
    }
    let a: Awaited<ReturnType<typeof namedBackend>>;
    let b: Awaited<ReturnType<typeof namedBackend>>;
    let lb: HaproxyHandle;

    beforeAll(async () => {
      a = await namedBackend('alpha');
      b = await namedBackend('beta');
      lb = await startHaproxy({
        backends: [
          { name: 'alpha', host: '127.0.0.1', port: a.port },
          { name: 'beta', host: '127.0.0.1', port: b.port },
        ],
        checkIntervalMs: 100,
      });
    });
    afterAll(async () => {
      await lb?.stop();
      await a?.close();
      await b?.close();
    });

    it('balances over both, fails over when one dies, and takes it back when it returns', async () => {
      await lb.waitForBackend('alpha', 'UP');
      await lb.waitForBackend('beta', 'UP');
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await greeting(lb.port));
      expect([...seen].sort()).toEqual(['alpha', 'beta']);

      await a.close();
      await lb.waitForBackend('alpha', 'DOWN');
      const afterFailure: string[] = [];
      for (let i = 0; i < 6; i++) afterFailure.push(await greeting(lb.port));
      expect(afterFailure).toEqual(Array(6).fill('beta'));

      // The same port comes back (as a restarted gateway would), and the health check notices.
      await new Promise<void>((r) => a.server.listen(a.port, '127.0.0.1', r));
      await lb.waitForBackend('alpha', 'UP');
      const back = new Set<string>();
      for (let i = 0; i < 6; i++) back.add(await greeting(lb.port));
      expect(back.has('alpha')).toBe(true);
    });
  });
});
