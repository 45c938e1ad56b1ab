import type { Server } from 'node:net';

/** Starts listening and resolves with the bound address (port 0 → the ephemeral port chosen); rejects on EADDRINUSE and the like. */
export function listen(server: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.removeListener('error', onError);
      const a = server.address();
      resolve({ host, port: typeof a === 'object' && a ? a.port : port });
    });
  });
}
