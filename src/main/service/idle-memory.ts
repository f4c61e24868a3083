// Gives memory back once a burst of traffic is over. V8 keeps a young
// generation grown under load (to 32 MB) and the burst's garbage, body
// buffers included, until its next collection, and a process with no traffic
// has none: the edge and the agent would sit at twice their at-rest RSS for
// hours. One full collection after the process has gone quiet releases both
// (measured: 150 -> 77 MB on the server, 161 -> 91 MB on the agent).
//
// Only after 30 s of quiet, though: a full collection also frees the shapes
// (maps) of the request path's objects, none of which is alive between bursts,
// and V8 throws away the optimized code built on them, so the next burst runs
// cold for seconds (small GETs after 13 s of quiet: p99 21-46 ms in nine
// rounds against 18-22 ms in five without it). The first quiet sample
// collects the young generation only, which keeps that code and gives back
// most of what the young generation grew to. After the full one the C
// heap's free pages go back too, and during it the helper threads' arenas
// give back their free tops (allocator-trim.ts); not after the young one,
// since the next burst of a busy spell would fault them back in.
//
// What counts as busy is the sampler's: the command samples its event loop
// (cli/idle-memory.ts), the desktop app its tunnels' traffic
// (memory-after-traffic.ts).
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadAllocatorTrim } from './allocator-trim.js';

export interface IdleMemoryPolicy {
  /** Utilization (0..1) over one sample at or above which the process counts as busy: the event loop's busy share, or the share of seconds with traffic. */
  busyUtilization: number;
  /** At or below which it counts as quiet. A sample between the two neither counts as quiet nor starts the quiet over. */
  idleUtilization: number;
  /** Quiet samples after a busy spell, with no busy one among them, before the full collection; the first one collects the young generation. */
  fullAfterQuietSamples: number;
}

/** With 5 s samples: the young generation 5-10 s after a burst, everything after 30 s of quiet. */
export const defaultIdleMemoryPolicy: IdleMemoryPolicy = { busyUtilization: 0.05, idleUtilization: 0.01, fullAfterQuietSamples: 6 };

export type Collection = 'young' | 'full';

/** Decides, one utilization sample at a time, when to collect: the young generation once quiet, everything once quiet for long, once per busy spell. */
export class IdleMemoryReclaimer {
  private busySinceFull = false;
  private quietSamples = 0;

  constructor(
    private readonly collect: (collection: Collection) => void,
    private readonly policy: IdleMemoryPolicy = defaultIdleMemoryPolicy,
  ) {}

  /** Returns what it collected, if anything. */
  sample(utilization: number): Collection | undefined {
    if (utilization >= this.policy.busyUtilization) {
      this.busySinceFull = true;
      this.quietSamples = 0;
      return undefined;
    }
    // Neither traffic nor quiet (a trickle, or the runtime's own housekeeping after a burst): the quiet so far stands.
    if (utilization > this.policy.idleUtilization || !this.busySinceFull) return undefined;
    this.quietSamples++;
    let collection: Collection | undefined;
    if (this.quietSamples >= this.policy.fullAfterQuietSamples) {
      this.busySinceFull = false;
      this.quietSamples = 0;
      collection = 'full';
    } else if (this.quietSamples === 1) {
      collection = 'young';
    }
    if (collection !== undefined) this.collect(collection);
    return collection;
  }
}

/**
 * V8's own collector, reached by turning on --expose-gc at run time (the flag
 * only adds the `gc` global to contexts made afterwards): a full collection,
 * or a young-generation one. Undefined when the runtime refuses, and then
 * memory is simply given back later.
 *
 * The full one compacts where the old generation's pages are left mostly
 * empty: a regular full collection frees the burst's objects but keeps
 * every page that still holds a live one (after gRPC calls the agent's old
 * space kept 36-46 MB of pages for 12-14 MB of objects; a test's 109 MB
 * for 37). Not always: compacting after small requests alone made the next
 * burst's p99 worse (four runs each against frp: 0.52-0.78x with it,
 * 0.37-0.52x without).
 */
export function v8Collector(): ((collection: Collection) => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return undefined;
    // No argument is the full, synchronous collection; V8 11 takes an options bag with type 'major' as a young one.
    const collect = gc as (options?: { type: 'minor' }) => void;
    return (collection) => {
      if (collection === 'young') return collect({ type: 'minor' });
      collect();
      if (!oldSpaceMostlyEmpty()) return;
      setFlagsFromString('--compact-on-every-full-gc');
      try {
        collect();
      } finally {
        setFlagsFromString('--no-compact-on-every-full-gc');
      }
    };
  } catch {
    return undefined;
  }
}

/** More than 16 MiB of the old generation's pages free, and more free than used. */
function oldSpaceMostlyEmpty(): boolean {
  const space = getHeapSpaceStatistics().find((candidate) => candidate.space_name === 'old_space');
  if (space === undefined) return false;
  const free = space.space_size - space.space_used_size;
  return free > 16 * 1024 * 1024 && free > space.space_used_size;
}

/**
 * The idle collections as both samplers run them: V8's, and a second after
 * the full one the C heap's trim, with glibc's trim threshold lowered from
 * the full collection to the trim (allocator-trim.ts). Each piece of work
 * goes through `run` (the command times them, to leave them out of its
 * samples). Undefined where V8's collector cannot be reached.
 */
export function idleCollector(run: (work: () => unknown) => void = (work) => void work()): ((collection: Collection) => void) | undefined {
  const collect = v8Collector();
  if (collect === undefined) return undefined;
  return (collection) => {
    if (collection === 'young') return run(() => collect(collection));
    run(async () => {
      const allocator = await loadAllocatorTrim();
      allocator?.lowerTrimThreshold();
      collect(collection);
      if (allocator !== undefined) setTimeout(() => run(() => allocator.trim()), trimDelayMs).unref();
    });
  };
}

/** V8 frees what a collection found dead on a helper thread right after it (a trim in the same turn kept 74 MB of a test's 175, one a timer later 47). */
const trimDelayMs = 1_000;
