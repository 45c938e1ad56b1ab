import type { EventDetails } from '../events/event-types.js';

type Log = (id: 100 | 400, message: string, details?: EventDetails) => void;

interface Episode {
  code: string;
  startedAt: number;
  /** Failures seen after the one that opened the episode (they are not logged one by one). */
  repeats: number;
}

/**
 * "A resource ran out" as episodes: the first failure logs event 400 (counted in Error Count) with
 * what ran out; further failures of the same resource are only tallied, so a gateway at its limit
 * does not flood its own log; the first success afterwards logs the recovery (event 100) with the
 * tally. Silence in either direction would hide the one thing an operator must know.
 */
export class ResourceEpisodes {
  private readonly open = new Map<string, Episode>();

  constructor(
    private readonly log: Log,
    private readonly now: () => number,
  ) {}

  exhausted(resource: string, code: string, message: string, details: EventDetails = {}): void {
    const episode = this.open.get(resource);
    if (episode) {
      episode.repeats++;
      return;
    }
    this.open.set(resource, { code, startedAt: this.now(), repeats: 0 });
    this.log(400, message, { ...details, fields: { ...details.fields, resource, code } });
  }

  recovered(resource: string, message: (e: { code: string; repeats: number; seconds: number }) => string): void {
    const episode = this.open.get(resource);
    if (!episode) return;
    this.open.delete(resource);
    const seconds = Math.round((this.now() - episode.startedAt) / 100) / 10;
    this.log(100, message({ code: episode.code, repeats: episode.repeats, seconds }), { fields: { resource, code: episode.code, recovered: true, repeats: episode.repeats } });
  }

  isExhausted(resource: string): boolean {
    return this.open.has(resource);
  }
}
