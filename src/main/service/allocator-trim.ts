// Gives the C heap's free pages back after the full collection of a quiet
// spell. Body buffers and socket reads are malloc'd; glibc serves 1 MiB buffers from
// its heap once the first one has been freed (its mmap threshold rises), so
// after a burst of 1 MiB bodies the heap is full of free chunks below a few
// live ones, which free() never returns: both sides kept ~60 MB of free heap
// after their idle collections (measured with gdb: server 112 -> 74 MB,
// agent 137 -> 75 after one malloc_trim(0)). Only malloc_trim hands back the
// pages in the middle of the heap, and Node has no binding for it, so it is
// reached through koffi (an FFI library with prebuilt binaries), loaded on
// first use: ~5 MB and ~70 ms once, in a quiet moment, never at rest.

/** Returns true when it gave memory back. */
export type AllocatorTrim = () => boolean;

let loading: Promise<AllocatorTrim | undefined> | undefined;

/** glibc's malloc_trim(0), or undefined off glibc (musl, macOS, Windows) or where koffi has no binary. */
export function loadAllocatorTrim(): Promise<AllocatorTrim | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined);
  loading ??= import('koffi').then(
    (koffi) => {
      let mallocTrim: (pad: number) => number;
      try {
        mallocTrim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
      } catch {
        return undefined; // musl: no glibc heap to trim
      }
      return () => mallocTrim(0) !== 0;
    },
    (error: unknown) => {
      process.emitWarning(`cannot load koffi to reach malloc_trim (${error instanceof Error ? error.message : String(error)}): memory freed after traffic stays resident`, { code: 'BURROW_NO_TRIM' });
      return undefined;
    },
  );
  return loading;
}

/** Gives the C heap's free pages back where it can; true when it did. */
export async function trimAllocator(): Promise<boolean> {
  return (await loadAllocatorTrim())?.() ?? false;
}
