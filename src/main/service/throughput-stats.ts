// Per-second throughput, total and per tunnel, for the last five minutes:
// requests started, bytes each way and streams open.
import type { StatsSnapshot, ThroughputPoint } from '../../shared/contract.js';
import type { TrafficEvent } from '../../shared/traffic.js';

const historySeconds = 300;

interface Bucket {
  requests: number;
  bytesIn: number;
  bytesOut: number;
}

const emptyBucket = (): Bucket => ({ requests: 0, bytesIn: 0, bytesOut: 0 });

export class ThroughputStats {
  private current = emptyBucket();
  private readonly currentPerTunnel = new Map<string, Bucket>();
  private readonly openByTunnel = new Map<string, number>();
  private readonly tunnelOf = new Map<string, string>();
  private readonly history: ThroughputPoint[] = [];
  private readonly historyPerTunnel = new Map<string, ThroughputPoint[]>();

  record(event: TrafficEvent): void {
    if (event.kind === 'request-start') {
      this.tunnelOf.set(event.requestId, event.tunnel);
      this.openByTunnel.set(event.tunnel, (this.openByTunnel.get(event.tunnel) ?? 0) + 1);
      this.current.requests++;
      this.bucketFor(event.tunnel).requests++;
      return;
    }
    const tunnel = this.tunnelOf.get(event.requestId);
    if (tunnel === undefined) return;
    switch (event.kind) {
      case 'body':
      case 'ws-frame': {
        const size = event.kind === 'body' ? event.data.length : event.size;
        const bucket = this.bucketFor(tunnel);
        if (event.direction === 'to-service') {
          this.current.bytesIn += size;
          bucket.bytesIn += size;
        } else {
          this.current.bytesOut += size;
          bucket.bytesOut += size;
        }
        return;
      }
      case 'request-end':
      case 'request-error':
        this.tunnelOf.delete(event.requestId);
        this.openByTunnel.set(tunnel, Math.max(0, (this.openByTunnel.get(tunnel) ?? 1) - 1));
        return;
      default:
        // gRPC bytes are counted as body events; the rest carry no volume.
        return;
    }
  }

  /** Closes the current one-second bucket (call once a second); returns its points. */
  tick(at: number): ThroughputPoint & { perTunnel: Record<string, ThroughputPoint> } {
    const total: ThroughputPoint = { at, ...this.current, openStreams: this.tunnelOf.size };
    push(this.history, total);
    const perTunnel: Record<string, ThroughputPoint> = {};
    const tunnels = new Set([...this.currentPerTunnel.keys(), ...this.openByTunnel.keys()]);
    for (const tunnel of tunnels) {
      const bucket = this.currentPerTunnel.get(tunnel) ?? emptyBucket();
      const point: ThroughputPoint = { at, ...bucket, openStreams: this.openByTunnel.get(tunnel) ?? 0 };
      perTunnel[tunnel] = point;
      let series = this.historyPerTunnel.get(tunnel);
      if (series === undefined) this.historyPerTunnel.set(tunnel, (series = []));
      push(series, point);
      if (point.openStreams === 0) this.openByTunnel.delete(tunnel);
    }
    this.current = emptyBucket();
    this.currentPerTunnel.clear();
    return { ...total, perTunnel };
  }

  snapshot(): StatsSnapshot {
    return { total: [...this.history], perTunnel: Object.fromEntries([...this.historyPerTunnel].map(([k, v]) => [k, [...v]])) };
  }

  /** The tunnel's bucket for the current second (the total is `current`). */
  private bucketFor(tunnel: string): Bucket {
    let bucket = this.currentPerTunnel.get(tunnel);
    if (bucket === undefined) this.currentPerTunnel.set(tunnel, (bucket = emptyBucket()));
    return bucket;
  }
}

function push(series: ThroughputPoint[], point: ThroughputPoint): void {
  series.push(point);
  if (series.length > historySeconds) series.shift();
}
