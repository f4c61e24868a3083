// A response the exchange has handed over in full can still wait in the
// edge's buffers for its client to read it. A client that never reads (an
// HTTP/2 client that keeps its window shut) held it for good, up to a credit
// window a stream. As a reverse proxy's send timeout, and as the exchange
// itself does while it runs (a chunk leaving its buffers is progress), a
// client that takes none of what is queued for the idle timeout is cut.
import type { Writable } from 'node:stream';

/** Calls `cut` unless some of what `answer` has queued leaves its buffers every `idleMs`, until all has; 0 never cuts. */
export function cutWhenUnread(answer: Writable, idleMs: number, cut: () => void): void {
  if (idleMs === 0 || answer.writableFinished || answer.destroyed) return;
  // Queued bytes fall as each write completes: a slow reader's progress, which 'drain' (all of it) would miss.
  let queued = answer.writableLength;
  const timer = setTimeout(() => {
    const now = answer.writableLength;
    // All of it has left: 'finish' follows.
    if (now === 0) return;
    if (now >= queued) {
      cut();
      return;
    }
    queued = now;
    timer.refresh();
  }, idleMs);
  const settled = (): void => clearTimeout(timer);
  answer.once('finish', settled);
  answer.once('close', settled);
}
