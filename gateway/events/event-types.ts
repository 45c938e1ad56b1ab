import type { EventId, EventLevel } from './event-ids.js';

/** One entry of the "OMS Gateway Log". */
export interface GatewayEvent {
  seq: number;
  id: EventId;
  level: EventLevel;
  time: string;
  message: string;
  clientIp?: string;
  clientPort?: number;
  target?: string;
  connectionId?: number;
  fields?: Record<string, unknown>;
}

export type EventDetails = Omit<GatewayEvent, 'seq' | 'id' | 'level' | 'time' | 'message'>;
