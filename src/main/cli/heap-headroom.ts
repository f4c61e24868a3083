// Keeps V8 from running a full collection every few megabytes of traffic.
// Buffer memory (every body chunk, every socket read) counts against V8's
// old-generation limit, and V8 sets that limit after each full collection
// from how fast the program had been allocating against how fast it collects:
// after a quiet spell, the live heap plus ~8 MB. So a process
// relaying 1 MiB bodies ran a mark-compact every ~100 ms, each freeing almost
// nothing (measured after 40-60 s idle: 45-66 mark-compacts in 6 s, 1 MiB
// responses at 90-147 MB/s against 200-300 for a fresh process). A limit of
// four times the live heap, what a fresh process starts with, keeps them rare:
// 285-304 MB/s after the same idle spell, and half the CPU per MiB on both sides.
import { setFlagsFromString } from 'node:v8';

/** The old-generation limit after each full collection: live heap x (1 + percent / 100). */
export const heapGrowingPercent = 300;

/** Sets the limit's growing factor for the rest of the process's life; false when the runtime refuses. */
export function keepHeapHeadroom(percent = heapGrowingPercent): boolean {
  try {
    setFlagsFromString(`--heap-growing-percent=${percent}`);
    return true;
  } catch {
    return false;
  }
}
