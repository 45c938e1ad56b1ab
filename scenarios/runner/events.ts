import { existsSync, readFileSync } from 'node:fs';
import type { Clock } from '../../lib/clock.js';

/** One gateway event as the management API returns it (gateway/events/event-log.ts). */
export interface GatewayEventRecord {
  seq: number;
  id: number;
  level: string;
  time: string;
  message: string;
  clientIp?: string;
  clientPort?: number;
  target?: string;
  connectionId?: number;
  fields?: Record<string, unknown>;
}

/** An event as the runner keeps it: seq numbers restart with every gateway process, so tag each with its generation. */
export interface CollectedEvent extends GatewayEventRecord {
  generation: number;
  /** Real milliseconds since the scenario started when the runner saw it. */
  atMs: number;
  /** Agent or probe name for clientIp, when known. */
  client?: string;
}

/**
 * Reads /api/events?since= from each gateway process in turn and keeps everything, across restarts.
 * The gateway is a child process, so this is the only way its log is seen (as a user would).
 */
export class EventCollector {
  readonly all: CollectedEvent[] = [];
  private generation = 0;
  private adminUrl?: string;
  private lastSeq = 0;
  private inFlight?: Promise<CollectedEvent[]>;

  constructor(
    private readonly startedAt: number,
    private readonly nameOf: (ip: string | undefined) => string | undefined,
    private readonly realClock: Pick<Clock, 'now'> = { now: () => Date.now() },
  ) {}

  /** Follow a new gateway process (its seq numbers start again). */
  attach(adminUrl: string, generation: number): void {
    this.adminUrl = adminUrl.replace(/\/$/, '');
    this.generation = generation;
    this.lastSeq = 0;
  }

  /** A gateway process that never became ready (e.g. refused its configuration) is still a generation. */
  startedWithoutApi(generation: number): void {
    this.adminUrl = undefined;
    this.generation = generation;
    this.lastSeq = 0;
  }

  detach(): void {
    this.adminUrl = undefined;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  /**
   * Takes the events of one gateway process from its --event-log file (JSON lines) that the API did
   * not deliver: those logged as it stopped (102), or before it refused to start (401).
   */
  readFile(file: string, generation: number): CollectedEvent[] {
    if (!existsSync(file)) return [];
    const known = new Set(this.all.filter((e) => e.generation === generation).map((e) => e.seq));
    const fresh: CollectedEvent[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let e: GatewayEventRecord;
      try {
        e = JSON.parse(line) as GatewayEventRecord;
      } catch {
        continue; // a line cut short by a kill
      }
      if (known.has(e.seq)) continue;
      known.add(e.seq);
      const ev: CollectedEvent = { ...e, generation, atMs: this.when(e.time), client: this.nameOf(e.clientIp) };
      this.all.push(ev);
      fresh.push(ev);
    }
    return fresh;
  }

  /** Fetch whatever is new; returns the new events. Concurrent callers share one request. */
  poll(): Promise<CollectedEvent[]> {
    if (!this.adminUrl) return Promise.resolve([]);
    this.inFlight ??= this.fetchNew().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * When the event happened, relative to the scenario start: its own timestamp when the gateway runs
   * on real time; otherwise (a manual gateway clock) the moment the runner read it.
   */
  private when(time: string): number {
    const now = this.realClock.now();
    const t = Date.parse(time);
    return Number.isFinite(t) && t >= this.startedAt - 1000 && t <= now + 1000 ? Math.max(0, t - this.startedAt) : now - this.startedAt;
  }

  private async fetchNew(): Promise<CollectedEvent[]> {
    const url = `${this.adminUrl}/api/events?since=${this.lastSeq}`;
    const generation = this.generation;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    const body = (await res.json()) as GatewayEventRecord[] | { events: GatewayEventRecord[] };
    const list = Array.isArray(body) ? body : body.events;
    if (!Array.isArray(list)) throw new Error(`GET ${url}: expected a list of events`);
    const fresh: CollectedEvent[] = [];
    for (const e of list) {
      if (generation !== this.generation || e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      const ev: CollectedEvent = { ...e, generation, atMs: this.when(e.time), client: this.nameOf(e.clientIp) };
      this.all.push(ev);
      fresh.push(ev);
    }
    return fresh;
  }
}
