import { readFileSync } from 'node:fs';

/**
 * Client TCP connections to `proxyPort` that are ESTABLISHED right now, from the kernel's socket
 * table (/proc/net/tcp and tcp6): the ground truth for "open client connections", whichever
 * process (agents, driver, probes) owns them. Linux only; returns undefined elsewhere.
 */
export function establishedClientConnections(proxyPort: number): number | undefined {
  const hexPort = proxyPort.toString(16).toUpperCase().padStart(4, '0');
  let total = 0;
  let read = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    read = true;
    total += countInTable(text, hexPort);
  }
  return read ? total : undefined;
}

/** Rows whose remote port is the proxy's and whose state is 01 (ESTABLISHED). */
export function countInTable(table: string, hexPort: string): number {
  let n = 0;
  const lines = table.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i].trim().split(/\s+/);
    if (cols.length < 4) continue;
    const rem = cols[2];
    if (cols[3] === '01' && rem.endsWith(`:${hexPort}`)) n++;
  }
  return n;
}
