import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Client TCP connections to `proxyPort` that are ESTABLISHED right now, from the kernel's socket
 * table (/proc/net/tcp and tcp6): the ground truth for "open client connections", whichever
 * process (agents, driver, probes) owns them. Linux only; returns undefined elsewhere.
 *
 * The table is not read atomically: when other sockets on the machine come and go during a read of
 * many thousand rows, a row can be listed twice or skipped. Rows are therefore de-duplicated by
 * their address pair, and the table is read twice, keeping the larger count.
 */
export function establishedClientConnections(proxyPort: number, proxyHost = '127.0.0.1', localIpv4Prefix16?: [number, number]): number | undefined {
  const remotes = procAddresses(proxyHost, proxyPort);
  let best: number | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
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
      total += countInTable(text, remotes, localIpv4Prefix16);
    }
    if (!read) return undefined;
    best = Math.max(best ?? 0, total);
  }
  return best;
}

/**
 * The proxy's address as /proc/net/tcp{,6} spell it (IPv4 little-endian hex, port big-endian hex).
 * Matching the whole remote address, not just the port, matters: the gateway's own side of a
 * connection whose client happened to get the same ephemeral port number has that port as *its*
 * remote port.
 */
export function procAddresses(host: string, port: number): string[] {
  const p = port.toString(16).toUpperCase().padStart(4, '0');
  const h = host === 'localhost' ? '127.0.0.1' : host.replace(/^\[|\]$/g, '');
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (v4) {
    const le = [v4[4], v4[3], v4[2], v4[1]].map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0')).join('');
    // tcp6 lists IPv4-mapped addresses (::ffff:a.b.c.d) as 0000000000000000FFFF0000 + the IPv4 word.
    return [`${le}:${p}`, `0000000000000000FFFF0000${le}:${p}`];
  }
  if (h === '::1') return [`00000000000000000000000001000000:${p}`];
  return [];
}

/**
 * Distinct rows (by local and remote address) whose remote address is the proxy's and whose state is
 * 01 (ESTABLISHED); with `localIpv4Prefix16` (e.g. [127, 12]) only rows whose local address is in that
 * /16 (one shard's agents on a machine shared with other shards).
 *
 * Called several times a second on tables of thousands of rows (the whole machine's sockets): it
 * searches for " <remote> 01 " with indexOf instead of splitting every line, and reads the local
 * address just before each hit, so the cost is one native scan per remote spelling.
 */
export function countInTable(table: string, remotes: string[], localIpv4Prefix16?: [number, number]): number {
  const seen = new Set<string>();
  const prefix = localIpv4Prefix16 ? hex2(localIpv4Prefix16[1]) + hex2(localIpv4Prefix16[0]) : undefined;
  for (const rem of remotes) {
    const needle = ` ${rem} 01 `;
    for (let at = table.indexOf(needle); at >= 0; at = table.indexOf(needle, at + needle.length)) {
      const localStart = table.lastIndexOf(' ', at - 1) + 1;
      const local = table.slice(localStart, at);
      // The local address is the second column of its row: "  sl: local remote st ...".
      if (table.charCodeAt(localStart - 2) !== 58 /* ':' after sl */) continue;
      if (prefix !== undefined && !localInPrefix(local, prefix)) continue;
      seen.add(`${local}>${rem}`);
    }
  }
  return seen.size;
}

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** IPv4 (AABBCCDD:port, little-endian) or IPv4-mapped tcp6 (...FFFF0000AABBCCDD:port): the /16 is the last two bytes of the word. */
function localInPrefix(local: string, prefixLe: string): boolean {
  const colon = local.indexOf(':');
  return local.slice(colon - 4, colon) === prefixLe && (colon === 8 || (colon === 32 && local.startsWith('0000000000000000FFFF0000')));
}

/**
 * The same count from `ss` (iproute2), which asks the kernel over netlink with the port filtered in
 * the kernel: reading /proc/net/tcp formats every socket of the machine as text, and a CPU profile
 * of `omsgw load` had those reads at a fifth of the load process's time on a busy machine. Falls back
 * to /proc/net/tcp when `ss` is not installed. Read twice and de-duplicated for the same reason as there.
 */
export async function establishedClientConnectionsViaSs(proxyPort: number, proxyHost = '127.0.0.1', localIpv4Prefix16?: [number, number], read: SsReader = ssEstablished): Promise<number | undefined> {
  const h = proxyHost === 'localhost' ? '127.0.0.1' : proxyHost.replace(/^\[|\]$/g, '');
  const peers = h.includes(':') ? [`[${h}]:${proxyPort}`] : [`${h}:${proxyPort}`, `[::ffff:${h}]:${proxyPort}`];
  const local = localIpv4Prefix16 ? [`${localIpv4Prefix16[0]}.${localIpv4Prefix16[1]}.`, `[::ffff:${localIpv4Prefix16[0]}.${localIpv4Prefix16[1]}.`] : undefined;
  let best = 0;
  for (let attempt = 0; attempt < 2; attempt++) {
    const out = await read(proxyPort);
    if (out === undefined) return establishedClientConnections(proxyPort, proxyHost, localIpv4Prefix16);
    best = Math.max(best, countSsRows(out, peers, local));
  }
  return best;
}

/** `ss -Htn state established ( dport = :PORT )` output, or undefined when ss is not available. */
export type SsReader = (port: number) => Promise<string | undefined>;

/** Distinct (local, peer) rows of `ss -Htn state established` output whose peer is one of `peers` (and local starts with one of `local`). */
export function countSsRows(out: string, peers: string[], local?: string[]): number {
  const seen = new Set<string>();
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const [, , from, to] = cols;
    if (!peers.includes(to)) continue;
    if (local && !local.some((p) => from.startsWith(p))) continue;
    seen.add(`${from}>${to}`);
  }
  return seen.size;
}

function ssEstablished(port: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], { maxBuffer: 64 << 20 }, (err, stdout) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve(undefined);
      else if (err) reject(new Error(`ss failed: ${err.message}`));
      else resolve(stdout);
    });
  });
}
