import { LIVE_HEAP_PREFIX, type LiveHeap } from './live-heap-line.js';

/**
 * Preloaded into the soak's gateway child (`node --expose-gc --import .../heap-probe.js`): on SIGUSR2
 * it runs full garbage collections and prints the memory the program still holds. The leak check
 * reads this rather than RSS, which V8's heap sizing moves by megabytes within a minute without a leak.
 */
const gc = (globalThis as { gc?: () => void }).gc;

process.on('SIGUSR2', () => {
  if (!gc) {
    process.stderr.write(`${LIVE_HEAP_PREFIX}{"error":"node was started without --expose-gc"}\n`);
    return;
  }
  // Two passes: objects freed by the first pass's finalizers go in the second.
  gc();
  gc();
  const m = process.memoryUsage();
  const live: LiveHeap = { heapUsedBytes: m.heapUsed, externalBytes: m.external };
  process.stderr.write(`${LIVE_HEAP_PREFIX}${JSON.stringify(live)}\n`);
});
