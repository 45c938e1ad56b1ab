/**
 * Child-process entry of the tunnel driver (forked with IPC), so the driver never shares a
 * CPU-bound event loop with the proxy it measures.
 * parent → child: {type:'run', options} | {type:'stop'} | {type:'release'}
 * child → parent: {type:'sample'} | {type:'idle-ready', open} | {type:'result', result} | {type:'error', message}
 */
import { TunnelDriver } from './run.js';
import type { DriverOptions } from './types.js';

type Msg = { type: 'run'; options: DriverOptions } | { type: 'stop' } | { type: 'release' };

let driver: TunnelDriver | undefined;

function send(msg: unknown): void {
  process.send?.(msg);
}

process.on('message', (msg: Msg) => {
  if (msg.type === 'stop') {
    driver?.stop();
    return;
  }
  if (msg.type === 'release') {
    driver?.release();
    return;
  }
  if (msg.type !== 'run' || driver) return;
  try {
    driver = new TunnelDriver(msg.options, {
      onSample: (sample) => send({ type: 'sample', sample }),
      onIdleReady: (open) => send({ type: 'idle-ready', open }),
    });
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
    process.disconnect?.();
    return;
  }
  driver.run().then(
    (result) => {
      send({ type: 'result', result });
      process.disconnect?.();
    },
    (err) => {
      send({ type: 'error', message: (err as Error)?.stack ?? String(err) });
      process.disconnect?.();
    },
  );
});

process.on('disconnect', () => {
  // Parent went away: release everything and let the process end.
  driver?.stop();
});
