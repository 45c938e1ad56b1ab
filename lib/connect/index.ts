/**
 * lib/connect: the harness's one CONNECT client (agents, load driver, load and scenario probes)
 * and the settle-once-with-a-deadline helper its steps share.
 */
export * from './client.js';
export * from './deadline.js';
