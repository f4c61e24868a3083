// Per-second throughput points for the charts: total and per tunnel, the
// last few minutes only.
import type { AppEvents, StatsSnapshot, ThroughputPoint } from '../../../shared/contract.js';

export interface ThroughputSeries {
  readonly total: readonly ThroughputPoint[];
  readonly perTunnel: Readonly<Record<string, readonly ThroughputPoint[]>>;
}

export const emptySeries: ThroughputSeries = { total: [], perTunnel: {} };

const keepLast = <T>(items: readonly T[], max: number): readonly T[] => (items.length > max ? items.slice(items.length - max) : items);

export function seriesFromSnapshot(snapshot: StatsSnapshot, maxPoints: number): ThroughputSeries {
  const perTunnel: Record<string, readonly ThroughputPoint[]> = {};
  for (const [name, points] of Object.entries(snapshot.perTunnel)) perTunnel[name] = keepLast(points, maxPoints);
  return { total: keepLast(snapshot.total, maxPoints), perTunnel };
}

/** Adds one tick; a tick not newer than the last point (a replay) is ignored. */
export function appendTick(series: ThroughputSeries, tick: AppEvents['stats'], maxPoints: number): ThroughputSeries {
  const last = series.total.at(-1);
  if (last !== undefined && tick.at <= last.at) return series;
  const { perTunnel: tickPerTunnel, ...total } = tick;
  const perTunnel: Record<string, readonly ThroughputPoint[]> = {};
  const names = new Set([...Object.keys(series.perTunnel), ...Object.keys(tickPerTunnel)]);
  for (const name of names) {
    const point = tickPerTunnel[name] ?? { at: tick.at, requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, openStreams: 0 };
    perTunnel[name] = keepLast([...(series.perTunnel[name] ?? []), point], maxPoints);
  }
  return { total: keepLast([...series.total, total], maxPoints), perTunnel };
}
