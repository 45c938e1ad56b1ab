import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { establishedClientConnectionsViaSs } from './proc-net.js';

const END = '__omsgw_ss_end__';

/**
 * One long-lived `sh` that runs `ss -Htn state established ( dport = :PORT )` each time it is asked
 * (one line with the port on its stdin) and ends the answer with a marker line and ss's exit status.
 *
 * Why not execFile('ss') per read: spawning from the load process forks a Node process with hundreds
 * of MB mapped and builds a ChildProcess each time — about 3.7 ms of the load process's CPU per read
 * with a 340 MB heap (0.3 ms through this session), and a CPU profile of `omsgw load` had those
 * spawns at 6 % of its busy time. The kernel answers the same netlink query either way, so the truth
 * is the same; ss's own CPU was never the load process's and still is not.
 */
export class SsSession {
  private child?: ChildProcessWithoutNullStreams;
  private buffer = '';
  private readonly waiting: ((answer: { out: string; status: number } | undefined) => void)[] = [];
  /** False once ss turned out to be missing (exit 127) or the shell died: callers fall back to /proc. */
  private usable = true;

  start(): void {
    if (this.child) return;
    this.usable = true;
    this.buffer = '';
    // The port is checked to be digits only before ss sees it; anything else gets an empty answer.
    const script = `while read p; do case "$p" in ''|*[!0-9]*) echo "${END} 2"; continue;; esac; ss -Htn state established "( dport = :$p )" 2>/dev/null; echo "${END} $?"; done`;
    const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.stderr.resume();
    child.stdin.on('error', () => undefined);
    // Only this shell's end fails the reads waiting on it (a closed session may be followed by a new one).
    const gone = () => {
      if (this.child === child) {
        this.child = undefined;
        this.fail();
      }
    };
    child.on('error', gone);
    child.on('exit', gone);
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    this.fail();
    child?.stdin.end();
    child?.kill();
  }

  /** Raw `ss` output for established connections to `port`, or undefined when ss is unavailable. */
  read(port: number): Promise<{ out: string; status: number } | undefined> {
    if (!this.usable || !this.child || !Number.isInteger(port) || port < 1 || port > 65535) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child!.stdin.write(`${port}\n`);
    });
  }

  /**
   * Client connections to the proxy that are ESTABLISHED now, counted by establishedClientConnectionsViaSs
   * with this session as its ss; /proc/net/tcp when ss is missing.
   */
  established(proxyPort: number, proxyHost = '127.0.0.1', localIpv4Prefix16?: [number, number]): Promise<number | undefined> {
    return establishedClientConnectionsViaSs(proxyPort, proxyHost, localIpv4Prefix16, async (port) => {
      const answer = await this.read(port);
      if (answer === undefined) return undefined;
      if (answer.status === 127) {
        this.usable = false;
        return undefined;
      }
      if (answer.status !== 0) throw new Error(`ss failed with exit status ${answer.status}`);
      return answer.out;
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const at = this.buffer.indexOf(`${END} `);
      if (at < 0) return;
      const eol = this.buffer.indexOf('\n', at);
      if (eol < 0) return;
      const status = Number(this.buffer.slice(at + END.length + 1, eol));
      const out = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(eol + 1);
      this.waiting.shift()?.({ out, status });
    }
  }

  private fail(): void {
    this.usable = false;
    for (const w of this.waiting.splice(0)) w(undefined);
  }
}
