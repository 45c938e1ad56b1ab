import { Ajv, type ErrorObject } from 'ajv';
import { DCE_RE, REGION_RE } from './hosts.js';

/**
 * How the fake control plane behaves. `configVia`: which handler serves the agent configuration —
 * `global` serves it itself; `regional` / `dce` make the global handler answer 421
 * MisdirectedAgentRequest naming the regional or DCE handler (the real service does this when a
 * DCE is configured for the machine); `loop` makes the global and regional handlers send the agent
 * to each other forever (a fault). `dcr`: `unparsable` serves a configuration whose content is not
 * a data collection rule (a fault).
 */
export interface AmaSettings {
  region: string;
  /** Data collection endpoint name; when set, the DCR also sends a custom log stream to it. */
  dce?: string;
  configVia: 'global' | 'regional' | 'dce' | 'loop';
  dcr: 'valid' | 'unparsable';
}

export const DEFAULT_AMA_SETTINGS: AmaSettings = { region: 'eastus', configVia: 'global', dcr: 'valid' };

const schema = {
  type: 'object',
  properties: {
    region: { type: 'string', pattern: REGION_RE.source, description: 'Azure region, e.g. eastus' },
    dce: { anyOf: [{ type: 'string', pattern: DCE_RE.source }, { type: 'null' }], description: 'DCE name (lower-case letters, digits, -), or null for none' },
    configVia: { enum: ['global', 'regional', 'dce', 'loop'] },
    dcr: { enum: ['valid', 'unparsable'] },
  },
  additionalProperties: false,
};
const validate = new Ajv({ allErrors: true }).compile(schema);

function explain(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const where = e.instancePath ? e.instancePath.slice(1) : 'AMA settings';
      if (e.keyword === 'additionalProperties') return `unknown AMA setting "${(e.params as { additionalProperty: string }).additionalProperty}" (known: region, dce, configVia, dcr)`;
      if (e.keyword === 'pattern' && where === 'region') return 'region must be an Azure region name in lower case, like eastus or westus2';
      if (e.keyword === 'pattern' || (e.keyword === 'type' && where === 'dce')) return 'dce must be a data collection endpoint name (lower-case letters, digits and -), or null for none';
      if (e.keyword === 'enum') return `${where} must be one of ${(e.params as { allowedValues: string[] }).allowedValues.join(', ')}`;
      return `${where} ${e.message}`;
    })
    .join('; ');
}

/** Merges a partial change into settings; throws an Error saying what to fix. */
export function applyAmaSettings(current: AmaSettings, change: unknown): AmaSettings {
  if (!validate(change)) throw new Error(explain(validate.errors));
  const c = change as Partial<Omit<AmaSettings, 'dce'>> & { dce?: string | null };
  const next: AmaSettings = { ...current, ...c, dce: c.dce === null ? undefined : (c.dce ?? current.dce) };
  if (next.configVia === 'dce' && !next.dce) throw new Error('configVia "dce" needs a dce name (set dce too)');
  return next;
}
