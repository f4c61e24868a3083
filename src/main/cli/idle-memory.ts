// The command's idle sampler: its event loop's utilization, every 5 s, drives
// the idle collections (service/idle-memory.ts).
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { IdleMemoryReclaimer, idleCollector, prepareHeapForTraffic, type Collection } from '../service/idle-memory.js';

/** Samples the event loop every `intervalMs` for the rest of the process's life; returns a stop function. `onSample` sees each sample (for tests). */
export function reclaimMemoryWhenIdle(intervalMs = 5_000, onSample?: (utilization: number, collection: Collection | undefined) => void): () => void {
  // Garbage collection is left out of the samples, so that it never looks
  // like traffic: the loop's own reclaiming (a compacting collection, or
  // loading the trim, ~70 ms once, made a quiet sample count as not quiet),
  // and V8's own collections, whose memory reducer compacts three times
  // ~20 s after a burst (25-65 ms of pauses in a sample that was otherwise
  // 15-20 ms busy; that put the full collection off by 30 s).
  let collectingMs = 0;
  const ownWork: { from: number; to: number }[] = [];
  const timed = async (work: () => unknown): Promise<void> => {
    const from = performance.eventLoopUtilization();
    const span = { from: performance.now(), to: Infinity };
    ownWork.push(span);
    try {
      await work();
    } finally {
      span.to = performance.now();
      collectingMs += performance.eventLoopUtilization(from).active;
    }
  };
  const run = (work: () => unknown): void => void timed(work);
  const collect = idleCollector(run);
  if (collect === undefined) return () => {};
  // perf_hooks reports a collection on a later task: the loop's own ones are already counted above.
  const ours = (at: number): boolean => ownWork.some((span) => at >= span.from && at <= span.to);
  const collections = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!ours(entry.startTime)) collectingMs += entry.duration;
  });
  collections.observe({ entryTypes: ['gc'] });
  const reclaimer = new IdleMemoryReclaimer(collect, undefined, () => prepareHeapForTraffic(run));
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { active, idle } = performance.eventLoopUtilization(now, last);
    const utilization = Math.max(0, active - collectingMs) / (active + idle);
    const collection = reclaimer.sample(utilization);
    onSample?.(utilization, collection);
    collectingMs = 0;
    // Kept a sample longer than they last: their collections may be reported after it.
    while (ownWork.length > 0 && ownWork[0]!.to < performance.now() - intervalMs) ownWork.shift();
    last = now;
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    collections.disconnect();
  };
}
