import { isInputError } from '../../lib/errors.js';
import { agentSettingsSchema, checkAgentSettings, type AgentOptions } from '../agent-core/index.js';

const good = (): AgentOptions => ({
  os: 'linux',
  workspaceId: '6f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  workspaceKey: 'AAAAAAAAAAAAAAAAAAAAAA==',
  proxy: '127.0.0.1:8080',
  caPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
  seed: 1,
});

function errorOf(opts: unknown): Error | undefined {
  try {
    checkAgentSettings(opts as AgentOptions);
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

describe('agent options schema (ajv)', () => {
  test('a full set of valid options passes, runtime objects (clock, logger, keyPool) are not schema data', () => {
    expect(errorOf(good())).toBeUndefined();
    const full: AgentOptions = {
      ...good(),
      index: 3,
      bindAddress: '127.0.1.9',
      tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', servername: 'x.example' },
      queueLimit: 5,
      schedule: { collectIntervalMs: 0, topologyHeartbeatMs: 1000, heartbeatRowsMs: 0 },
      retry: { onboardInitialMs: 1, onboardMaxMs: 2, uploadInitialMs: 1, uploadMaxMs: 1, jitter: 0, retryLimit: 1 },
      volume: { perfSamples: 0, logRows: 1, messageBytes: 10 },
      batchSize: 1,
      keepAlive: true,
      connectTimeoutMs: 1,
      requestTimeoutMs: 1,
      tld: 'opinsights.azure.us',
      logger: () => undefined,
      clock: undefined,
      seed: 'text seed',
    };
    expect(errorOf(full)).toBeUndefined();
  });

  test.each([
    [{ queueLimt: 5 }, /^queueLimt is not an option; allowed: os, workspaceId, .*queueLimit/],
    [{ retry: { retryLimt: 2 } }, /^retry.retryLimt is not an option; allowed in retry: onboardInitialMs, .*retryLimit$/],
    [{ queueLimit: null }, /^queueLimit must be a whole number >= 1, got null$/],
    [{ seed: true }, /^seed must be a number or a string, got true$/],
    [{ keepAlive: 'yes' }, /^keepAlive must be boolean, got "yes"$/],
    [{ workspaceId: undefined }, /^workspaceId is required$/],
    [{ behavior: 'fluentd' }, /^behavior must be one of omsagent, mma, ideal, got "fluentd"$/],
    [{ retry: { uploadInitialMs: 0 } }, /^retry.uploadInitialMs must be a number of milliseconds > 0, got 0$/],
    [{ retry: { uploadMaxMs: -30_000 } }, /^retry.uploadMaxMs must be a number of milliseconds > 0, got -30000$/],
    [{ retry: { retryLimit: 0 } }, /^retry.retryLimit must be a whole number >= 1, got 0$/],
    [{ retry: { retryLimit: -6 } }, /^retry.retryLimit must be a whole number >= 1, got -6$/],
    [{ buffer: { chunkLimitBytes: 0 } }, /^buffer.chunkLimitBytes must be a whole number of bytes >= 1, got 0$/],
    [{ buffer: { flushIntervalMs: 0 } }, /^buffer.flushIntervalMs must be a number of milliseconds > 0, got 0$/],
  ])('%j is an InputError naming the field', (extra, msg) => {
    const err = errorOf({ ...good(), ...extra });
    expect(isInputError(err)).toBe(true);
    expect(err!.message).toMatch(msg);
  });

  test('behaviour models: each is accepted, buffer sizes only with a chunked model', () => {
    for (const behavior of ['omsagent', 'mma', 'ideal'] as const) expect(errorOf({ ...good(), behavior, retry: { uploadInitialMs: 1000, retryLimit: 1 } })).toBeUndefined();
    expect(errorOf({ ...good(), behavior: 'mma', buffer: { queueLimitBytes: 1024 } })).toBeUndefined();
    // Cross-field rules are checked when the settings are resolved (createAgent): see agent-wire.test.ts.
  });

  test('every bad field is named at once', () => {
    const err = errorOf({ ...good(), batchSize: 0, volume: { logRows: -1 }, tls: { maxVersion: 'SSLv3' } });
    expect(err?.message.split('; ').sort()).toEqual([
      'batchSize must be a positive integer, got 0',
      'tls.maxVersion must be one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, got "SSLv3"',
      'volume.logRows must be a whole number >= 0, got -1',
    ]);
  });

  test('the schema lists exactly the data options (the type check in options.ts keeps them in step)', () => {
    expect(Object.keys(agentSettingsSchema.properties!).sort()).toEqual(
      ['batchSize', 'behavior', 'bindAddress', 'buffer', 'caPem', 'connectTimeoutMs', 'index', 'keepAlive', 'os', 'proxy', 'queueLimit', 'requestTimeoutMs', 'retry', 'schedule', 'seed', 'tld', 'tls', 'volume', 'workspaceId', 'workspaceKey'].sort(),
    );
  });
});
