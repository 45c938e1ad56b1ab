import { DURATION_PATTERN } from './duration.js';
import type { StepDef, StepName } from './definitions.js';

/**
 * JSON Schema (draft-07, ajv) of a scenario file. The compiler holds it to definitions.ts: the step
 * map must have exactly one schema per step name, and each step's schema must list exactly the
 * fields of that step's type (a field added to or removed from either side does not compile).
 */

const duration = {
  anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: DURATION_PATTERN }],
  description: 'milliseconds, or a string like 500ms, 30s, 5m, 25h, 1d',
};
const range = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'object', properties: { min: { type: 'integer', minimum: 0 }, max: { type: 'integer', minimum: 0 } }, additionalProperties: false, minProperties: 1 },
  ],
  description: 'a number, or {min, max}',
};
const hostName = { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9*][A-Za-z0-9.*-]*$' };
const target = { type: 'string', pattern: '^[A-Za-z0-9.\\[\\]:-]+:\\d+$', description: 'host:port' };
const credentials = {
  type: 'object',
  properties: { username: { type: 'string', minLength: 1 }, password: { type: 'string' } },
  required: ['username', 'password'],
  additionalProperties: false,
};
const tlsVersion = { enum: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] };
const agentsSelector = { type: 'string', minLength: 1, description: 'a group name (e.g. linux) or one agent (e.g. linux-1); default all agents' };
const eventIds = { type: 'array', items: { type: 'integer', minimum: 100, maximum: 499 }, minItems: 1 };
const gatewayName = { type: 'string', pattern: '^[a-z][a-z0-9-]*$', maxLength: 30, description: 'a gateway name: lowercase letters, digits and "-" (e.g. gw1)' };
const fault = { type: 'object', properties: { id: { type: 'string' } }, additionalProperties: true };

/** The fields of one step type, besides `do` and `title`. */
type FieldsOf<K extends StepName> = Exclude<keyof Extract<StepDef, { do: K }>, 'do' | 'title'>;

function step<K extends StepName>(name: K, properties: { [F in FieldsOf<K>]-?: unknown }, required: Array<FieldsOf<K> & string> = []): Record<string, unknown> {
  return {
    type: 'object',
    properties: { do: { const: name }, title: { type: 'string' }, ...properties },
    required: ['do', ...required],
    additionalProperties: false,
  };
}

export const stepSchemas: { [K in StepName]: Record<string, unknown> } = {
  'gateway.start': step('gateway.start', {
    name: gatewayName,
    allowlist: { anyOf: [{ const: 'default' }, { type: 'array', items: hostName }], description: '"default" (the hosts a 2016 install allowed) or a list of host names' },
    settings: {
      type: 'object',
      properties: {
        listenPort: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
        requireProxyAuth: credentials,
        tls: {
          type: 'object',
          description: 'the gateway TLS policy, written to gateway.json "tls" (docs/tls-inspection.md)',
          properties: { policy: { enum: ['current', 'preview-2016'] }, minVersion: tlsVersion, maxVersion: tlsVersion, tls13ClientCertificate: { enum: ['allow', 'reject'] } },
          additionalProperties: false,
        },
        clientAllowlist: { type: 'array', items: { type: 'string', minLength: 1 } },
        upstream: {
          anyOf: [
            { enum: ['host-map', 'relay'] },
            { type: 'object', properties: { relay: { type: 'string' } }, required: ['relay'], additionalProperties: false },
            { type: 'object', properties: { hostMap: { type: 'array', items: { type: 'string' } } }, required: ['hostMap'], additionalProperties: false },
          ],
        },
        relayAuth: credentials,
        clock: { enum: ['manual', 'system'] },
      },
      additionalProperties: false,
    },
    config: { type: 'string', minLength: 1 },
    args: { type: 'array', items: { type: 'string' } },
    expectFailure: { type: 'boolean' },
  }),
  'gateway.stop': step('gateway.stop', { name: gatewayName }),
  'gateway.restart': step('gateway.restart', { name: gatewayName }),
  'gateway.kill': step('gateway.kill', { name: gatewayName, signal: { enum: ['SIGKILL', 'SIGTERM'] }, whenTunnelsOpen: { type: 'boolean' } }),
  'gateway.reload': step('gateway.reload', { name: gatewayName }),
  'balancer.start': step('balancer.start', {
    backends: { type: 'array', items: gatewayName, minItems: 1, uniqueItems: true },
    healthCheck: {
      type: 'object',
      properties: { interval: duration, fall: { type: 'integer', minimum: 1, maximum: 10 }, rise: { type: 'integer', minimum: 1, maximum: 10 } },
      additionalProperties: false,
    },
  }, ['backends']),
  'balancer.wait': step('balancer.wait', { backend: gatewayName, state: { enum: ['UP', 'DOWN'] }, timeout: duration }, ['backend', 'state']),
  'allowlist.edit-file': step('allowlist.edit-file', {
    file: { enum: ['server', 'client'] },
    add: { type: 'array', items: { type: 'string', minLength: 1 } },
    remove: { type: 'array', items: { type: 'string', minLength: 1 } },
  }),
  'allowlist.api-add': step('allowlist.api-add', { host: hostName }, ['host']),
  'allowlist.api-remove': step('allowlist.api-remove', { host: hostName }, ['host']),
  'cloud.start': step('cloud.start', { faults: { type: 'array', items: fault } }),
  'cloud.fault-set': step('cloud.fault-set', { fault }, ['fault']),
  'cloud.fault-clear': step('cloud.fault-clear', { id: { type: 'string' } }),
  'agents.start': step('agents.start', {
    group: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
    os: { enum: ['linux', 'windows', 'ama'] },
    count: { type: 'integer', minimum: 1, maximum: 50 },
    workspace: { type: 'string', minLength: 1 },
    proxyAuth: credentials,
    tls: {
      type: 'object',
      properties: { minVersion: tlsVersion, maxVersion: tlsVersion, servername: { type: 'string', minLength: 1 } },
      additionalProperties: false,
    },
    bindRange: { type: 'string', pattern: '^127\\.\\d+\\.\\d+\\.\\d+/(2[4-9]|3[0-2])$', description: 'a loopback range like 127.0.1.0/24' },
    seed: { type: 'integer' },
    run: { enum: ['once', 'scheduled'] },
    behavior: { enum: ['omsagent', 'mma', 'ideal'] },
    retry: {
      type: 'object',
      properties: {
        uploadInitialMs: { type: 'integer', minimum: 1, description: 'first retry wait in milliseconds (> 0)' },
        uploadMaxMs: { type: 'integer', minimum: 1, description: 'longest retry wait in milliseconds (> 0)' },
        retryLimit: { type: 'integer', minimum: 1, description: 'attempts before a chunk is dropped (>= 1)' },
      },
      additionalProperties: false,
    },
    via: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', description: '"balancer" or a gateway name' },
  }, ['os']),
  'agents.run-once': step('agents.run-once', { agents: agentsSelector }),
  'agents.stop': step('agents.stop', { agents: agentsSelector }),
  'agents.wait': step('agents.wait', {
    agents: agentsSelector,
    onboarded: { type: 'boolean' },
    delivered: { type: 'integer', minimum: 1 },
    drained: { type: 'boolean' },
    attempted: hostName,
    timeout: duration,
  }),
  'clock.advance': step('clock.advance', { by: duration, step: duration, gateway: { type: 'boolean' } }, ['by']),
  'probe.http': step('probe.http', {
    as: { type: 'string' },
    method: { type: 'string', pattern: '^[A-Z]+$' },
    url: { type: 'string', pattern: '^https?://' },
    expectStatus: { type: 'integer', minimum: 100, maximum: 599 },
  }, ['url']),
  'probe.connect': step('probe.connect', { as: { type: 'string' }, target, expectStatus: { type: 'integer', minimum: 100, maximum: 599 } }, ['target']),
  'probe.tls': step('probe.tls', {
    as: { type: 'string' },
    target,
    version: { enum: ['TLSv1.2', 'TLSv1.3'] },
    servername: { type: 'string', minLength: 1 },
    expect: { enum: ['closed', 'handshake'] },
  }, ['target']),
  'expect.events': step('expect.events', {
    gateway: gatewayName,
    client: { type: 'string', minLength: 1 },
    target: { type: 'string', minLength: 1 },
    generation: { enum: ['all', 'current'] },
    sequence: eventIds,
    match: { enum: ['exact', 'subsequence'] },
    absent: eventIds,
    within: duration,
    messageContains: { type: 'array', items: { type: 'string', minLength: 1 } },
  }),
  'expect.counters': step('expect.counters', {
    gateway: gatewayName,
    counters: { type: 'object', additionalProperties: range, minProperties: 1 },
    within: duration,
  }, ['counters']),
  'expect.ledger': step('expect.ledger', {
    createdEqualsIngested: { type: 'boolean' },
    ingestedOnceOrQueued: { type: 'boolean' },
    allowResentDuplicates: { type: 'boolean' },
    records: {
      type: 'array',
      items: {
        type: 'object',
        properties: { agents: agentsSelector, dataType: { type: 'string' }, count: range },
        required: ['count'],
        additionalProperties: false,
      },
    },
    within: duration,
  }),
  'expect.agents': step('expect.agents', {
    agents: agentsSelector,
    onboarded: { type: 'boolean' },
    queued: range,
    delivered: range,
    dropped: range,
    droppedBy: { type: 'object', propertyNames: { pattern: '^[a-z][a-z-]*$' }, additionalProperties: range, minProperties: 1 },
    errors: range,
    ledger: { type: 'boolean' },
    state: { type: 'string' },
  }),
};

export const STEP_NAMES = Object.keys(stepSchemas);

export const scenarioSchema = {
  $id: 'https://omsgw.local/scenario.schema.json',
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    explanation: { type: 'string' },
    workspaces: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: { id: { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'a workspace GUID such as 7a3c2f10-4b1e-4d7a-9c55-2f0e8b6d1a42' }, key: { type: 'string', minLength: 1 } },
        required: ['id'],
        additionalProperties: false,
      },
    },
    clock: { type: 'object', properties: { start: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$', description: 'an ISO time such as 2016-03-01T09:00:00Z' } }, additionalProperties: false },
    timeout: duration,
    steps: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['do'], discriminator: { propertyName: 'do' }, oneOf: Object.values(stepSchemas) },
    },
  },
  required: ['name', 'title', 'workspaces', 'steps'],
  additionalProperties: false,
} as const;
