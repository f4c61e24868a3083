// Gives memory back once a burst of traffic is over. V8 keeps a young
// generation grown under load (to 32 MB) and the burst's garbage, body
// buffers included, until its next collection, and a process with no traffic
// has none: the edge and the agent would sit at twice their at-rest RSS for
// hours. One full collection after the process has gone quiet releases both
// (measured: 150 -> 77 MB on the server, 161 -> 91 MB on the agent).
//
// Only after 30 s of quiet, though, and run the way V8 runs its own
// (incremental-collection.ts): a forced full collection also let the shapes
// (maps) of the request path's objects die, none of which is alive between
// bursts, and V8 threw away the optimized code built on them, so the next
// burst ran cold for seconds (small GETs after 13 s of quiet: p99 21-46 ms in
// nine rounds against 18-22 ms in five without it; after 40 s, 2.0-3.1x the
// warm p99 against 0.9-1.1x with the incremental one, four alternating
// pairs). The first quiet sample collects the young generation only, which
// gives back most of what the young generation grew to. After the full one
// the C heap's free pages go back too, and during it the helper threads'
// arenas give back their free tops (allocator-trim.ts); not after the young
// one, since the next burst of a busy spell would fault them back in. The
// C heap's thresholds for traffic are set at the first busy sample.
//
// What counts as busy is the sampler's: the command samples its event loop
// (cli/idle-memory.ts), the desktop app its tunnels' traffic
// (memory-after-traffic.ts).
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadAllocatorTrim } from './allocator-trim.js';
import { incrementalFullCollection, type ExposedGc } from './incremental-collection.js';

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
  private everBusy = false;

  constructor(
    private readonly collect: (collection: Collection) => void,
    private readonly policy: IdleMemoryPolicy = defaultIdleMemoryPolicy,
    /** Called at the first busy sample of the process's life (prepareHeapForTraffic). */
    private readonly firstBusy: () => void = () => {},
  ) {}

  /** Returns what it collected, if anything. */
  sample(utilization: number): Collection | undefined {
    if (utilization >= this.policy.busyUtilization) {
      if (!this.everBusy) {
        this.everBusy = true;
        this.firstBusy();
      }
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

/** V8's `gc`, reached by turning on --expose-gc at run time (the flag only adds it to contexts made afterwards); undefined when the runtime refuses. */
function exposedGc(): ExposedGc | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    // No argument is the full, synchronous collection; V8 11 takes an options bag with type 'minor' as a young one.
    return typeof gc === 'function' ? (gc as ExposedGc) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * V8's collector, forced and synchronous: a full collection, or a
 * young-generation one. Undefined where it cannot be reached, and then
 * memory is simply given back later. (The idle reclaimer's full collection
 * is V8's incremental one: idleCollector.)
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
  const gc = exposedGc();
  if (gc === undefined) return undefined;
  return (collection) => {
    if (collection === 'young') return gc({ type: 'minor' });
    gc();
    if (!oldSpaceMostlyEmpty()) return;
    compactEveryFullCollection(true);
    try {
      gc();
    } finally {
      compactEveryFullCollection(false);
    }
  };
}

/** More than 16 MiB of the old generation's pages free, and more free than used. */
function oldSpaceMostlyEmpty(): boolean {
  const space = getHeapSpaceStatistics().find((candidate) => candidate.space_name === 'old_space');
  if (space === undefined) return false;
  const free = space.space_size - space.space_used_size;
  return free > 16 * 1024 * 1024 && free > space.space_used_size;
}

/** Whether V8's full collections move the old generation's survivors together (set for one collection at a time). */
function compactEveryFullCollection(on: boolean): void {
  setFlagsFromString(on ? '--compact-on-every-full-gc' : '--no-compact-on-every-full-gc');
}

/**
 * The idle collections as both samplers run them: V8's young one; its full
 * one, incremental (incremental-collection.ts), compacting as v8Collector's
 * does; and a second after the full one the C heap's trim, with glibc's
 * trim threshold lowered from the full collection to the trim
 * (allocator-trim.ts). Each piece of work goes through `run` (the command
 * times them, to leave them out of its samples). Undefined where V8's
 * collector cannot be reached.
 */
export function idleCollector(run: (work: () => unknown) => void = (work) => void work()): ((collection: Collection) => void) | undefined {
  const gc = exposedGc();
  if (gc === undefined) return undefined;
  return (collection) => {
    if (collection === 'young') return run(() => gc({ type: 'minor' }));
    run(async () => {
      const allocator = await loadAllocatorTrim();
      allocator?.lowerTrimThreshold();
      await incrementalFullCollection(gc);
      if (oldSpaceMostlyEmpty()) {
        compactEveryFullCollection(true);
        try {
          await incrementalFullCollection(gc);
        } finally {
          compactEveryFullCollection(false);
        }
      }
      if (allocator !== undefined) setTimeout(() => run(() => allocator.trim()), trimDelayMs).unref();
    });
  };
}

/**
 * Sets the C heap's thresholds for traffic (allocator-trim.ts) once traffic
 * first comes, not at the first idle trim: until then a process ran on
 * glibc's rising thresholds, under which the heap's top is given back and
 * faulted in again as 1 MiB bodies come and go. Fresh server and agent,
 * six alternating rounds of paced 1 MiB uploads: the server at 2,100-10,600
 * page faults per GB against 70-1,250 with this, p99 45.8 ms against 37.0
 * (medians), CPU per 1,000 uploads (both sides) 2.56 s against 2.19. Not at
 * start: loading it costs 5 MiB and ~25 ms, which a process at rest never pays.
 */
export function prepareHeapForTraffic(run: (work: () => unknown) => void = (work) => void work()): void {
  run(() => loadAllocatorTrim());
}

/** V8 frees what a collection found dead on a helper thread right after it (a trim in the same turn kept 74 MB of a test's 175, one a timer later 47). */
const trimDelayMs = 1_000;
