/** The tunnel load driver: CONNECT + TLS 1.2 + HTTP/1.1 through a proxy, run in its own process (spawnDriver) or in-process (runDriver). See docs/load-and-bench.md. */
export * from './types.js';
export { TunnelDriver, runDriver, validateDriverOptions, type DriverHooks } from './run.js';
export { spawnDriver, type SpawnedDriver, type SpawnDriverOptions } from './spawn.js';
export { isLoopbackHost, assertLoopback, expandSourceRange } from './loopback.js';
