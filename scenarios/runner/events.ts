import { existsSync, readFileSync } from 'node:fs';
import type { Clock } from '../../lib/clock.js';
import type { GatewayEvent } from '../../gateway/events/event-log.js';

/**
 * One gateway event as the management API returns it (gateway/events/event-log.ts); read from JSON,
 * so ids and levels are plain values (an external or newer gateway may log ids we do not know).
 */
export type GatewayEventRecord = Omit<GatewayEvent, 'id' | 'level'> & { id: number; level: string };

/** An event as the runner keeps it: seq numbers restart with every gateway process, so tag each with its gateway and generation. */
export interface CollectedEvent extends GatewayEventRecord {
  /** Name of the gateway that logged it ("gateway" unless the scenario names its gateways). */
  gateway: string;
  /** 1 for the gateway's first process, 2 after its first restart, ... (per gateway name). */
  generation: number;
  /** Real milliseconds since the scenario started when the runner saw it. */
  atMs: number;
  /** Agent or probe name for clientIp, when known. */
  client?: string;
}

interface Source {
  generation: number;
  adminUrl?: string;
  lastSeq: number;
  inFlight?: Promise<CollectedEvent[]>;
}

/**
 * Reads /api/events?since= from each gateway process and keeps everything, across restarts and
 * across several named gateways. The gateways are child processes, so this (and their event-log
 * files) is the only way their logs are seen, as a user would.
 */
export class EventCollector {
  readonly all: CollectedEvent[] = [];
  private readonly sources = new Map<string, Source>();

  constructor(
    private readonly startedAt: number,
    private readonly nameOf: (ip: string | undefined) => string | undefined,
    private readonly realClock: Pick<Clock, 'now'> = { now: () => Date.now() },
  ) {}

  /** Follow a new process of gateway `name` (its seq numbers start again). */
  attach(name: string, adminUrl: string, generation: number): void {
    this.sources.set(name, { adminUrl: adminUrl.replace(/\/$/, ''), generation, lastSeq: 0 });
  }

  /** A gateway process that never became ready (e.g. refused its configuration) is still a generation. */
  startedWithoutApi(name: string, generation: number): void {
    this.sources.set(name, { generation, lastSeq: 0 });
  }

  detach(name: string): void {
    const s = this.sources.get(name);
    if (s) s.adminUrl = undefined;
  }

  currentGeneration(name: string): number {
    return this.sources.get(name)?.generation ?? 0;
  }

  /** Names of every gateway that has logged or been followed. */
  gatewayNames(): string[] {
    return [...new Set([...this.sources.keys(), ...this.all.map((e) => e.gateway)])];
  }

  /**
   * Takes the events of one gateway process from its --event-log file (JSON lines) that the API did
   * not deliver: those logged as it stopped (102), before it refused to start (401), or before a SIGKILL.
   */
  readFile(file: string, name: string, generation: number): CollectedEvent[] {
    if (!existsSync(file)) return [];
    const known = new Set(this.all.filter((e) => e.gateway === name && e.generation === generation).map((e) => e.seq));
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
      const ev: CollectedEvent = { ...e, gateway: name, generation, atMs: this.when(e.time), client: this.nameOf(e.clientIp) };
      this.all.push(ev);
      fresh.push(ev);
    }
    return fresh;
  }

  /** Events an adapter derived from an external proxy's own log (e.g. squid's access log), as gateway `name`. */
  addExternal(name: string, records: GatewayEventRecord[]): void {
    for (const e of records) this.all.push({ ...e, gateway: name, generation: 1, atMs: this.when(e.time), client: this.nameOf(e.clientIp) });
  }

  /** Fetch whatever is new from every gateway followed; returns the new events. Concurrent callers share requests. */
  async poll(): Promise<CollectedEvent[]> {
    const lists = await Promise.all(
      [...this.sources.entries()].map(([name, src]) => {
        if (!src.adminUrl) return [];
        src.inFlight ??= this.fetchNew(name, src).finally(() => (src.inFlight = undefined));
        return src.inFlight;
      }),
    );
    return lists.flat();
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

  private async fetchNew(name: string, src: Source): Promise<CollectedEvent[]> {
    const url = `${src.adminUrl}/api/events?since=${src.lastSeq}`;
    const generation = src.generation;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    const body = (await res.json()) as GatewayEventRecord[] | { events: GatewayEventRecord[] };
    const list = Array.isArray(body) ? body : body.events;
    if (!Array.isArray(list)) throw new Error(`GET ${url}: expected a list of events`);
    const fresh: CollectedEvent[] = [];
    // Replaced by a restart, or detached (stopped: its event-log file is read instead) while the
    // request was out: these events are stale or will come from the file.
    if (this.sources.get(name) !== src || !src.adminUrl) return fresh;
    for (const e of list) {
      if (e.seq <= src.lastSeq) continue;
      src.lastSeq = e.seq;
      const ev: CollectedEvent = { ...e, gateway: name, generation, atMs: this.when(e.time), client: this.nameOf(e.clientIp) };
      this.all.push(ev);
      fresh.push(ev);
    }
    return fresh;
  }
}
