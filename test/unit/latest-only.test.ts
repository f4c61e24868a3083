// The renderer's runner for work asked for again and again (a gRPC call's
// decoding, for every message of an open stream): one run at a time, then
// one more for all asked meanwhile, after a pause.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { latestOnly } from '../../src/renderer/src/store/latest-only.js';

afterEach(() => vi.useRealTimers());

describe('latestOnly', () => {
  it('runs once at a time, and once more after a pause for every request made meanwhile', async () => {
    vi.useFakeTimers();
    const finish: (() => void)[] = [];
    let runs = 0;
    const runner = latestOnly(() => {
      runs++;
      return new Promise<void>((resolve) => finish.push(resolve));
    }, 250);
    runner.request();
    for (let i = 0; i < 50; i++) runner.request();
    expect(runs).toBe(1);
    finish.shift()!();
    await vi.advanceTimersByTimeAsync(249);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    finish.shift()!();
    await vi.advanceTimersByTimeAsync(1_000);
    // Nothing asked during the second run: no third.
    expect(runs).toBe(2);
    runner.request();
    expect(runs).toBe(3);
    runner.stop();
    runner.request();
    finish.shift()!();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(3);
  });

  it('goes on after a run that failed', async () => {
    let runs = 0;
    const runner = latestOnly(() => (++runs === 1 ? Promise.reject(new Error('gone')) : Promise.resolve()), 0);
    runner.request();
    runner.request();
    await vi.waitFor(() => expect(runs).toBe(2));
  });
});
