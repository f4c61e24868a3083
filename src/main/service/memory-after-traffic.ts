// The desktop app's idle sampler. Its main process runs Node's event loop
// from Chromium's, beside the window's IPC and rendering work, so the loop's
// utilization cannot tell traffic from someone scrolling the log; the
// tunnels' own traffic can: the share of a sample's seconds that carried a
// request or body bytes drives the idle collections (idle-memory.ts).
import type { ThroughputPoint } from '../../shared/contract.js';
import type { AppService } from './app-service.js';
import { IdleMemoryReclaimer, idleCollector, prepareHeapForTraffic, type Collection, type IdleMemoryPolicy } from './idle-memory.js';

export interface MemoryAfterTrafficOptions {
  /** The service's one-second stats ticks per sample; 5 gives the command's 5 s samples. */
  ticksPerSample?: number;
  policy?: IdleMemoryPolicy;
  /** V8's collector and the C heap's trim (idleCollector) unless given. */
  collect?: (collection: Collection) => void;
}

/** Follows the service's traffic until the returned function is called. */
export function reclaimMemoryAfterTraffic(service: AppService, options: MemoryAfterTrafficOptions = {}): () => void {
  const collect = options.collect ?? idleCollector();
  if (collect === undefined) return () => {};
  // The C heap's thresholds go with the real collector only (a test's own collect measures nothing of the heap).
  const reclaimer = new IdleMemoryReclaimer(collect, options.policy, options.collect === undefined ? () => prepareHeapForTraffic() : undefined);
  const ticksPerSample = options.ticksPerSample ?? 5;
  let ticks = 0;
  let ticksWithTraffic = 0;
  const onTick = (point: ThroughputPoint): void => {
    ticks++;
    if (point.requests > 0 || point.bytesIn > 0 || point.bytesOut > 0) ticksWithTraffic++;
    if (ticks < ticksPerSample) return;
    reclaimer.sample(ticksWithTraffic / ticks);
    ticks = 0;
    ticksWithTraffic = 0;
  };
  service.on('stats', onTick);
  return () => service.off('stats', onTick);
}
