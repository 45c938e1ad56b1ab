/**
 * Process entry of the bench upstream: `node dist/harness/upstream/main.js <certFile> <keyFile> [port]` (port 0 = ephemeral).
 * Prints `omsgw-bench-upstream-ready {"port":N,"pid":P}` once listening; exits on SIGTERM or when stdin closes.
 */
import { readFileSync } from 'node:fs';
import { BenchUpstream } from './server.js';

async function main(): Promise<void> {
  const [certFile, keyFile, portText] = process.argv.slice(2);
  if (!certFile || !keyFile) {
    process.stderr.write('usage: main.js <certFile> <keyFile> [port]\n');
    process.exit(2);
  }
  const upstream = new BenchUpstream({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), requestCert: true, port: portText ? Number(portText) : 0 });
  await upstream.start();
  process.stdout.write(`omsgw-bench-upstream-ready ${JSON.stringify({ port: upstream.port, pid: process.pid })}\n`);
  const stop = (): void => {
    void upstream.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

void main();
