import type { CDPSession } from 'playwright-core';

/** The page's memory after a forced full garbage collection. */
export interface MemoryReading {
  /** Live JavaScript heap, bytes. */
  readonly jsHeapUsed: number;
  /** Blink's garbage-collected heap (DOM and other embedder objects), bytes. */
  readonly embedderHeapUsed: number;
  /** ArrayBuffer and external-string backing stores, bytes. */
  readonly backingStorage: number;
  readonly domNodes: number;
  readonly jsEventListeners: number;
}

/**
 * Forces two full collections over the DevTools protocol (the second sweeps what the first
 * finalised), then reads V8's heap usage and Blink's DOM counters.
 */
export async function readMemory(cdp: CDPSession): Promise<MemoryReading> {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const dom = await cdp.send('Memory.getDOMCounters');
  return {
    jsHeapUsed: heap.usedSize,
    embedderHeapUsed: heap.embedderHeapUsedSize,
    backingStorage: heap.backingStorageSize,
    domNodes: dom.nodes,
    jsEventListeners: dom.jsEventListeners,
  };
}
