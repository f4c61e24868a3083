// The command's idle sampler: its event loop's utilization, every 5 s, drives
// the idle collections (service/idle-memory.ts).
import { performance } from 'node:perf_hooks';
import { IdleMemoryReclaimer, idleCollector } from '../service/idle-memory.js';

/** Samples the event loop every `intervalMs` for the rest of the process's life; returns a stop function. */
export function reclaimMemoryWhenIdle(intervalMs = 5_000): () => void {
  // The loop's own reclaiming is left out of the samples, so that it never
  // looks like traffic: a compacting collection, or loading the trim (~70 ms,
  // once), made a quiet sample count as not quiet.
  let reclaimingMs = 0;
  const timed = async (work: () => unknown): Promise<void> => {
    const from = performance.eventLoopUtilization();
    await work();
    reclaimingMs += performance.eventLoopUtilization(from).active;
  };
  const collect = idleCollector((work) => void timed(work));
  if (collect === undefined) return () => {};
  const reclaimer = new IdleMemoryReclaimer(collect);
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { active, idle } = performance.eventLoopUtilization(now, last);
    reclaimer.sample(Math.max(0, active - reclaimingMs) / (active + idle));
    reclaimingMs = 0;
    last = now;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
