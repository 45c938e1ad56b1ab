import type { Clock } from '../../lib/clock.js';

/**
 * The accurate "connected clients" extension: distinct source IPs with a connection open now or
 * open at any time during the last `windowMs`.
 */
export class ClientWindow {
  private readonly open = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly clock: Clock, readonly windowMs: number) {}

  connected(ip: string): void {
    this.open.set(ip, (this.open.get(ip) ?? 0) + 1);
    this.lastSeen.set(ip, this.clock.now());
  }

  disconnected(ip: string): void {
    const n = (this.open.get(ip) ?? 1) - 1;
    if (n <= 0) this.open.delete(ip);
    else this.open.set(ip, n);
    this.lastSeen.set(ip, this.clock.now());
  }

  count(): number {
    const cutoff = this.clock.now() - this.windowMs;
    let n = 0;
    for (const [ip, at] of this.lastSeen) {
      if (this.open.has(ip) || at >= cutoff) n++;
      else this.lastSeen.delete(ip);
    }
    return n;
  }
}
