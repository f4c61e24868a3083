// The edge's send timeout for answers handed over in full (unread-answer.ts),
// on a real Writable whose "client" completes writes when the test says.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cutWhenUnread } from '../../src/main/tunnel/server/unread-answer.js';

/** A writable whose writes complete only when `take()` is called: a client reading when it likes. */
function heldWritable(): { answer: Writable; take(): void } {
  const pending: (() => void)[] = [];
  const answer = new Writable({ highWaterMark: 1, write: (_chunk, _encoding, done) => void pending.push(() => done()) });
  return { answer, take: () => pending.shift()?.() };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('an answer handed over in full, waiting for its client', () => {
  it('is cut when none of it leaves for the idle time', () => {
    vi.useFakeTimers();
    const { answer } = heldWritable();
    answer.write(Buffer.alloc(10));
    answer.end(Buffer.alloc(10));
    const cut = vi.fn();
    cutWhenUnread(answer, 1_000, cut);
    vi.advanceTimersByTime(999);
    expect(cut).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(cut).toHaveBeenCalledTimes(1);
  });

  it('is not cut while some of it leaves in each idle time (a slow reader), nor once all of it has', async () => {
    vi.useFakeTimers();
    const { answer, take } = heldWritable();
    for (let i = 0; i < 4; i++) answer.write(Buffer.alloc(10));
    answer.end();
    const cut = vi.fn();
    cutWhenUnread(answer, 1_000, cut);
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(900);
      take();
      // The completion runs on the next tick.
      await vi.advanceTimersByTimeAsync(0);
    }
    await vi.advanceTimersByTimeAsync(5_000);
    expect(answer.writableFinished).toBe(true);
    expect(cut).not.toHaveBeenCalled();
  });

  it('is left alone with an idle time of 0, or once it has left', () => {
    vi.useFakeTimers();
    const cut = vi.fn();
    const held = heldWritable();
    held.answer.end(Buffer.alloc(10));
    cutWhenUnread(held.answer, 0, cut);
    const done = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    done.end();
    cutWhenUnread(done, 1_000, cut);
    vi.advanceTimersByTime(10_000);
    expect(cut).not.toHaveBeenCalled();
  });
});
