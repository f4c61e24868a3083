// Gives the C heap's free pages back after the full collection of a quiet
// spell. Body buffers and socket reads are malloc'd; glibc serves 1 MiB buffers from
// its heap once the first one has been freed (its mmap threshold rises), so
// after a burst of 1 MiB bodies the heap is full of free chunks below a few
// live ones, which free() never returns: both sides kept ~60 MB of free heap
// after their idle collections (measured with gdb: server 112 -> 74 MB,
// agent 137 -> 75 after one malloc_trim(0)). Only malloc_trim hands back the
// pages in the middle of the heap, and Node has no binding for it, so it is
// reached through koffi (an FFI library with prebuilt binaries), loaded
// when traffic first comes, which also sets the heap's thresholds for it
// (idle-memory.ts, prepareHeapForTraffic): ~5 MB and ~25 ms once, never at
// rest.
//
// malloc_trim leaves one thing: the free top of every other thread's arena.
// V8's helper threads (its optimizing compiler, its parallel marking) each
// allocate from an arena of their own, and glibc gives an arena's top back
// only when that thread frees next to it and the top exceeds the trim
// threshold, which rises to twice the largest buffer freed so far (2 MiB after
// 1 MiB bodies). After 1 MiB loads and the idle trim the agent's four
// helper arenas held 2.0-2.5 MB of free top each, 7.7-8.8 MB of its 77 MiB
// (malloc_info read with gdb). So the threshold goes down to glibc's initial
// 128 KiB for the idle full collection, whose helper threads free in their
// arenas and so hand their tops back, and up again for traffic: in three
// alternating pairs of runs the agent's helper arenas kept 3.3-5.0 MB (not
// every helper thread frees in that window).

/** glibc's heap as the idle reclaimer works it. */
export interface AllocatorTrim {
  /** Lets each thread's arena give back its free top the next time that thread frees (the idle full collection's helper threads do). */
  lowerTrimThreshold(): void;
  /** malloc_trim(0), then the trim threshold for traffic again; true when it gave memory back. */
  trim(): boolean;
}

// mallopt's parameters (malloc.h).
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
const MiB = 1024 * 1024;
/**
 * Setting one threshold ends glibc's rising ones, so both are fixed: buffers
 * below 4 MiB (relayed chunks, socket reads) come from the heap, and under
 * traffic its top is kept up to 64 MiB, so that a freed buffer's pages are
 * not returned only to be faulted in again; the idle trim gives it all back
 * after the traffic. Twice the mmap threshold (8 MiB, glibc's own rule) was
 * too little once bodies stopped being joined: the top of a trimmed heap
 * swung by more than that under 1 MiB responses, and a server so trimmed
 * stayed, for its life, at 40,000-67,000 page faults per GB relayed (Node
 * copies each short socket read into an allocation of its size) and 1.4-2.4
 * s of CPU per 1,000 responses with a p99 of 40-68 ms, against 0.8-1.0 s and
 * 21-28 ms: one or two servers in four, started side by side, every time;
 * none in four with 64 MiB.
 */
const mmapThreshold = 4 * MiB;
const trafficTrimThreshold = 64 * MiB;
/** glibc's initial trim threshold. */
const idleTrimThreshold = 128 * 1024;

let loading: Promise<AllocatorTrim | undefined> | undefined;

/** glibc's heap, or undefined off glibc (musl, macOS, Windows) or where koffi has no binary. */
export function loadAllocatorTrim(): Promise<AllocatorTrim | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined);
  loading ??= import('koffi').then(
    (koffi) => {
      let mallocTrim: (pad: number) => number;
      let mallopt: (parameter: number, value: number) => number;
      try {
        const libc = koffi.load('libc.so.6');
        mallocTrim = libc.func('int malloc_trim(size_t pad)') as (pad: number) => number;
        mallopt = libc.func('int mallopt(int parameter, int value)') as (parameter: number, value: number) => number;
      } catch {
        return undefined; // musl: no glibc heap to trim
      }
      mallopt(M_MMAP_THRESHOLD, mmapThreshold);
      mallopt(M_TRIM_THRESHOLD, trafficTrimThreshold);
      return {
        lowerTrimThreshold: () => void mallopt(M_TRIM_THRESHOLD, idleTrimThreshold),
        trim: () => {
          const released = mallocTrim(0) !== 0;
          mallopt(M_TRIM_THRESHOLD, trafficTrimThreshold);
          return released;
        },
      };
    },
    (error: unknown) => {
      process.emitWarning(`cannot load koffi to reach malloc_trim (${error instanceof Error ? error.message : String(error)}): memory freed after traffic stays resident`, { code: 'BURROW_NO_TRIM' });
      return undefined;
    },
  );
  return loading;
}
