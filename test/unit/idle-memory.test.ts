// The idle collection: once per busy spell, only after it has ended, and the
// runtime's collector reachable on the pinned Node.
import { describe, expect, it } from 'vitest';
import { IdleMemoryReclaimer, fullCollection } from '../../src/main/cli/idle-memory.js';

function reclaimer(): { sample(utilization: number): boolean; collections: () => number } {
  let collections = 0;
  const it = new IdleMemoryReclaimer(() => collections++, { busyUtilization: 0.05, idleUtilization: 0.01 });
  return { sample: (u) => it.sample(u), collections: () => collections };
}

describe('IdleMemoryReclaimer', () => {
  it('collects when a busy spell has ended, and not again until the next one', () => {
    const r = reclaimer();
    expect([0.4, 0.9, 0.3].map(r.sample)).toEqual([false, false, false]);
    expect(r.sample(0.005)).toBe(true);
    expect([0.0, 0.002, 0.0].map(r.sample)).toEqual([false, false, false]);
    expect(r.sample(0.5)).toBe(false);
    expect(r.sample(0)).toBe(true);
    expect(r.collections()).toBe(2);
  });

  it('never collects in a process that was never busy, nor while traffic merely slows', () => {
    const r = reclaimer();
    expect([0, 0.02, 0.01, 0].map(r.sample)).toEqual([false, false, false, false]);
    // Busy, then quieter but not idle: it waits for quiet.
    expect([0.6, 0.03, 0.02].map(r.sample)).toEqual([false, false, false]);
    expect(r.sample(0.01)).toBe(true);
  });
});

describe('fullCollection', () => {
  it("reaches V8's collector on this Node, which frees unreferenced buffers", async () => {
    const collect = fullCollection();
    expect(collect).toBeTypeOf('function');
    let freed = false;
    const registry = new FinalizationRegistry(() => (freed = true));
    (() => registry.register(Buffer.alloc(8 * 1024 * 1024), 'big'))();
    collect!();
    // Finalizers run on a later task, not within the collection.
    for (let turn = 0; turn < 100 && !freed; turn++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(freed).toBe(true);
  });
});
