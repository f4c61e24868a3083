// A full collection run the way V8 runs its own: marked incrementally, then
// finished. Not the forced one (`gc()`), which marks atomically: V8 keeps the
// shape (map) of objects none of which is alive any more, a request's between
// bursts, only while the shape's class is alive, and it looks that up before
// it has traced anything, so an atomic collection finds no class marked, lets
// every such map die and throws away the optimized code built on them
// ("weak objects" in --trace-deopt: 62-68 of the agent's functions and 86-112
// of the server's at each idle collection). The next burst then ran in the
// interpreter while V8 optimized again: small GETs in the first 5 s after 40 s
// of quiet had 2.0-3.6x the p99 of warm ones (seven runs), and 0.9-1.1x with
// this one (four pairs, alternating with the forced one; 1.2-1.8x in four
// bench runs, where the idle collections turned off gave 1.8x and 2.5x).
// Incremental marking has traced the heap by the time it looks, so the maps
// and the code stay; none is deoptimized.
//
// Node has no call that starts incremental marking. V8 checks whether to
// start it when a young collection ends, and --stress-incremental-marking
// makes the answer yes: the flag is on for that one young collection only.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';

/** V8's `gc` (--expose-gc): no argument is the full, atomic collection; type 'minor' the young one. */
export type ExposedGc = (options?: { type: 'minor' }) => void;

/** A full collection V8 normally finishes within tens of milliseconds of starting its marking; longer means it did not start. */
const finishWithinMs = 5_000;

/**
 * Resolves once V8 has finished a full collection: an incremental one, or,
 * where marking did not start or finish in time (a runtime that ignores the
 * flag), the atomic one, which finishes any marking under way. True when it
 * was incremental.
 */
export async function incrementalFullCollection(gc: ExposedGc): Promise<boolean> {
  const finished = nextFullCollection();
  setFlagsFromString('--stress-incremental-marking');
  try {
    gc({ type: 'minor' });
  } finally {
    setFlagsFromString('--no-stress-incremental-marking');
  }
  if (await finished) return true;
  gc();
  return false;
}

/** Whether a full collection ends within finishWithinMs (perf_hooks reports it on a later task). */
function nextFullCollection(): Promise<boolean> {
  return new Promise((resolve) => {
    const observer = new PerformanceObserver((list) => {
      if (list.getEntries().some((entry) => (entry.detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) settle(true);
    });
    const timer = setTimeout(() => settle(false), finishWithinMs);
    const settle = (finished: boolean): void => {
      clearTimeout(timer);
      observer.disconnect();
      resolve(finished);
    };
    observer.observe({ entryTypes: ['gc'] });
  });
}
