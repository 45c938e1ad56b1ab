import { Ajv } from 'ajv';
import { AgentError } from '../agent-core/errors.js';

/** One destination of a data collection rule: the workspace's ODS host, or a DCE ("gig"). */
export interface Channel {
  id: string;
  protocol: 'ods' | 'gig';
  /** ods: https://<ws>.ods.opinsights.azure.com */
  endpoint?: string;
  /** gig: https://<dce>.<region>-1.ingest.monitor.azure.com/dataCollectionRules/<dcr>/streams/<STREAM>?api-version=... */
  endpointUriTemplate?: string;
  tokenEndpointUri: string;
}

export interface DataSource {
  id: string;
  kind: string;
  streams: string[];
  channels: string[];
}

export interface AgentConfiguration {
  dcrIds: string[];
  dataSources: DataSource[];
  channels: Map<string, Channel>;
}

const channel = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1 },
    protocol: { enum: ['ods', 'gig'] },
    endpoint: { type: 'string', pattern: '^https://' },
    endpointUriTemplate: { type: 'string', pattern: '^https://.*<STREAM>' },
    tokenEndpointUri: { type: 'string', pattern: '^https://' },
  },
  required: ['id', 'protocol', 'tokenEndpointUri'],
  if: { properties: { protocol: { const: 'ods' } } },
  then: { required: ['endpoint'] },
  else: { required: ['endpointUriTemplate'] },
};
const dataSource = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    streams: { type: 'array', items: { type: 'object', properties: { stream: { type: 'string', minLength: 1 } }, required: ['stream'] } },
    sendToChannels: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'kind', 'streams', 'sendToChannels'],
};
const schema = {
  type: 'object',
  properties: {
    configurations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          configurationId: { type: 'string', minLength: 1 },
          content: { type: 'object', properties: { dataSources: { type: 'array', items: dataSource }, channels: { type: 'array', items: channel } }, required: ['dataSources', 'channels'] },
        },
        required: ['configurationId', 'content'],
      },
    },
  },
  required: ['configurations'],
};
const validate = new Ajv({ allErrors: false, strict: false }).compile(schema);

/**
 * Reads the handler's agent configuration (JSON Schema + ajv). Anything the agent cannot use is a
 * `protocol` failure of the `config` phase naming the first problem; the caller keeps its previous
 * configuration and its queued data.
 */
export function parseAgentConfiguration(body: Buffer, target: string): AgentConfiguration {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new AgentError(`Agent configuration from ${target} is not JSON: ${(err as Error).message}`, 'protocol', { phase: 'config', target });
  }
  if (!validate(json)) {
    const e = validate.errors![0]!;
    throw new AgentError(`Cannot parse the data collection rule from ${target}: ${e.instancePath || '(root)'} ${e.message}`, 'protocol', { phase: 'config', target });
  }
  const cfg: AgentConfiguration = { dcrIds: [], dataSources: [], channels: new Map() };
  for (const c of (json as { configurations: { configurationId: string; content: { dataSources: { id: string; kind: string; streams: { stream: string }[]; sendToChannels: string[] }[]; channels: Channel[] } }[] }).configurations) {
    cfg.dcrIds.push(c.configurationId);
    for (const ch of c.content.channels) cfg.channels.set(ch.id, ch);
    for (const ds of c.content.dataSources) {
      const missing = ds.sendToChannels.find((id) => !c.content.channels.some((ch) => ch.id === id));
      if (missing) throw new AgentError(`Cannot parse the data collection rule ${c.configurationId} from ${target}: data source ${ds.id} sends to channel ${missing}, which the rule does not define`, 'protocol', { phase: 'config', target });
      cfg.dataSources.push({ id: ds.id, kind: ds.kind, streams: ds.streams.map((s) => s.stream), channels: ds.sendToChannels });
    }
  }
  return cfg;
}

/** The channel a stream goes to (the first its data source names); heartbeats go to the first ODS channel. */
export function channelForStream(cfg: AgentConfiguration, stream: string): Channel | undefined {
  const ds = cfg.dataSources.find((d) => d.streams.includes(stream));
  if (ds) return cfg.channels.get(ds.channels[0]!);
  if (stream === 'HEALTH_ASSESSMENT_BLOB') return [...cfg.channels.values()].find((c) => c.protocol === 'ods');
  return undefined;
}
