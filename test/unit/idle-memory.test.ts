// The idle collection: the young generation once a busy spell has ended,
// everything only after a long quiet, once per busy spell; the runtime's
// collector reachable on the pinned Node, both kinds, the full one compacting
// where it left the pages mostly empty; and the command's sampler, which
// does not take garbage collection for traffic.
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { reclaimMemoryWhenIdle } from '../../src/main/cli/idle-memory.js';
import { IdleMemoryReclaimer, v8Collector, type Collection } from '../../src/main/service/idle-memory.js';

function reclaimer(): { sample(utilization: number): Collection | undefined; collections: Collection[] } {
  const collections: Collection[] = [];
  const it = new IdleMemoryReclaimer((collection) => collections.push(collection), { busyUtilization: 0.05, idleUtilization: 0.01, fullAfterQuietSamples: 4 });
  return { sample: (u) => it.sample(u), collections };
}

describe('IdleMemoryReclaimer', () => {
  it('collects the young generation when a busy spell has ended, everything after a long quiet, and not again until the next spell', () => {
    const r = reclaimer();
    expect([0.4, 0.9, 0.3].map(r.sample)).toEqual([undefined, undefined, undefined]);
    expect([0.005, 0, 0.002, 0].map(r.sample)).toEqual(['young', undefined, undefined, 'full']);
    expect([0, 0, 0, 0, 0].map(r.sample)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect([0.5, 0, 0, 0, 0].map(r.sample)).toEqual([undefined, 'young', undefined, undefined, 'full']);
    expect(r.collections).toEqual(['young', 'full', 'young', 'full']);
  });

  it('starts the long quiet over when traffic comes back before it has passed, so a busy process keeps its compiled code', () => {
    const r = reclaimer();
    // Bursts 10-15 s apart: each pause gets a young collection, none a full one.
    const pauses = [0.6, 0, 0, 0.7, 0, 0, 0.05, 0, 0];
    expect(pauses.map(r.sample)).toEqual([undefined, 'young', undefined, undefined, 'young', undefined, undefined, 'young', undefined]);
    expect(r.collections).not.toContain('full');
  });

  it("keeps the quiet it has counted through a sample that is neither busy nor quiet, such as V8's own collections after a burst", () => {
    const r = reclaimer();
    // V8's memory reducer compacts ~20 s after a burst: 1-5% of a sample. Counted as traffic, it put the full collection off by 30 s.
    expect([0.7, 0.03, 0, 0, 0.02, 0, 0.04, 0].map(r.sample)).toEqual([undefined, undefined, 'young', undefined, undefined, undefined, undefined, 'full']);
  });

  it('never collects in a process that was never busy, nor while traffic merely slows', () => {
    const r = reclaimer();
    expect([0, 0.02, 0.01, 0, 0, 0].map(r.sample)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    // Busy, then quieter but not quiet: it waits for quiet.
    expect([0.6, 0.03, 0.02].map(r.sample)).toEqual([undefined, undefined, undefined]);
    expect(r.sample(0.01)).toBe('young');
  });
});

describe('IdleMemoryReclaimer, first traffic', () => {
  it('says so once, at the first busy sample of the process, never while it is quiet', () => {
    let firstBusy = 0;
    const reclaimer = new IdleMemoryReclaimer(() => {}, { busyUtilization: 0.05, idleUtilization: 0.01, fullAfterQuietSamples: 2 }, () => firstBusy++);
    [0, 0.02, 0.01, 0].forEach((u) => reclaimer.sample(u));
    expect(firstBusy).toBe(0);
    [0.5, 0.9, 0, 0, 0.7, 0, 0].forEach((u) => reclaimer.sample(u));
    expect(firstBusy).toBe(1);
  });
});

describe('v8Collector', () => {
  /** The kinds of collection V8 ran within `work` (perf_hooks' gc entries arrive on a later task; others may come meanwhile). */
  async function collectionsDuring(work: () => void): Promise<number[]> {
    const entries: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
    observer.observe({ entryTypes: ['gc'] });
    const from = performance.now();
    work();
    const to = performance.now();
    const within = (): PerformanceEntry[] => entries.filter((entry) => entry.startTime >= from && entry.startTime <= to);
    for (let turn = 0; turn < 50 && within().length === 0; turn++) await new Promise((resolve) => setTimeout(resolve, 20));
    observer.disconnect();
    return within().map((entry) => (entry.detail as { kind: number }).kind);
  }

  it("reaches V8's full collector on this Node", async () => {
    const collect = v8Collector();
    expect(collect).toBeTypeOf('function');
    expect(await collectionsDuring(() => collect!('full'))).toContain(constants.NODE_PERFORMANCE_GC_MAJOR);
  });

  it('collects the young generation alone, which gives back a buffer nothing holds since it was made', async () => {
    const collect = v8Collector()!;
    collect('full');
    const before = process.memoryUsage().arrayBuffers;
    // Under the external memory that makes V8 collect on its own.
    (() => Buffer.alloc(4 * 1024 * 1024).fill(1))();
    // Other buffers come and go meanwhile: half of it is the margin.
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThan(2 * 1024 * 1024);
    const kinds = await collectionsDuring(() => collect('young'));
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MINOR);
    expect(kinds).not.toContain(constants.NODE_PERFORMANCE_GC_MAJOR);
    // V8's young collector keeps weak references alive, so no finalizer would show it: the count of buffer memory does.
    // Its buffers are swept on a background thread.
    let after = process.memoryUsage().arrayBuffers;
    for (let turn = 0; turn < 100 && after - before >= 2 * 1024 * 1024; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = process.memoryUsage().arrayBuffers;
    }
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
  });

  it('runs one full collection, not a second compacting one, when the pages are not left mostly empty', async () => {
    const collect = v8Collector()!;
    collect('full');
    const kinds = await collectionsDuring(() => collect('full'));
    expect(kinds.filter((kind) => kind === constants.NODE_PERFORMANCE_GC_MAJOR)).toHaveLength(1);
  });

  it('compacts in its full collection: the pages a burst left a few survivors on are given back', () => {
    const collect = v8Collector()!;
    const oldSpace = (): { size: number; used: number } => {
      const space = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
      return { size: space.space_size, used: space.space_used_size };
    };
    // ~50 MB of objects in the old generation (two young collections promote them); a third stay alive, spread over every page.
    let burst: { i: number; pair: number[] }[] = Array.from({ length: 400_000 }, (_, i) => ({ i, pair: [i, i + 1] }));
    collect('young');
    collect('young');
    const survivors = burst.filter((_, i) => i % 3 === 0);
    burst = [];
    expect(oldSpace().used).toBeGreaterThan(32 * 1024 * 1024);
    collect('full');
    const after = oldSpace();
    // A collection that does not compact keeps nearly every page: ~3x the bytes still used.
    expect(after.size - after.used).toBeLessThan(after.used / 2);
    expect(survivors[survivors.length - 1]!.pair[0]).toBe(399_999);
  });
});

describe("the command's event-loop sampler", () => {
  it("leaves V8's own collections out of its samples, so that they never look like traffic", async () => {
    const collect = v8Collector()!;
    // A heap a full collection takes a while over.
    const heap = Array.from({ length: 300_000 }, (_, i) => ({ i, name: `object ${i}` }));
    const samples: number[] = [];
    const stop = reclaimMemoryWhenIdle(400, (utilization) => samples.push(utilization));
    const from = performance.eventLoopUtilization();
    // The loop does nothing but V8's full collections (forced here; after a burst its memory reducer runs them).
    while (samples.length < 5) {
      collect('full');
      await delay(20);
    }
    const loop = performance.eventLoopUtilization(from).utilization;
    stop();
    expect(heap).toHaveLength(300_000);
    expect(loop).toBeGreaterThan(0.1);
    // Counted as busy, every sample would be near `loop`. One may be: perf_hooks
    // reports a collection on a later task, so one that ends as a sample is
    // taken counts in the next (seen once on a busy machine: 0.48 of 0.75).
    const middle = [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
    expect(middle).toBeLessThan(loop / 3);
  });
});
