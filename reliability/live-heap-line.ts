/** The line the heap probe prints on the gateway child's stderr (shared by the probe and its reader). */
export const LIVE_HEAP_PREFIX = 'omsgw-live-heap ';

export interface LiveHeap {
  /** V8 heap in use after full GC. */
  heapUsedBytes: number;
  /** Memory of C++ objects bound to JS objects (Buffers among them) after full GC. */
  externalBytes: number;
}
