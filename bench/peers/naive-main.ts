/** Process entry: `node dist/bench/peers/naive-main.js <upstreamPort>`; prints `omsgw-bench-naive-ready {"port":N}`. */
import { NaiveConnectProxy } from './naive-proxy.js';

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 1) {
    process.stderr.write('usage: naive-main.js <upstreamPort>\n');
    process.exit(2);
  }
  const proxy = new NaiveConnectProxy({ host: '127.0.0.1', port });
  await proxy.start();
  process.stdout.write(`omsgw-bench-naive-ready ${JSON.stringify({ port: proxy.port, pid: process.pid })}\n`);
  const stop = (): void => void proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
