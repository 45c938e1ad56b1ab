export * from './types.js';
export { TunnelDriver, runDriver, validateDriverOptions, type DriverHooks } from './run.js';
export { spawnDriver, type SpawnedDriver, type SpawnDriverOptions } from './spawn.js';
export { isLoopbackHost, assertLoopback, expandSourceRange } from './loopback.js';
