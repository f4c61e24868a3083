// Per-second throughput, total and per tunnel, for the last five minutes:
// requests started, requests failed, bytes each way, streams open, and the
// latency percentiles of the requests that ended.
import type { StatsSnapshot, ThroughputPoint } from '../../shared/contract.js';
import { addFlowBytes, grpcMessageWireBytes, grpcStatusIn, type TrafficEvent, type TrafficProtocol } from '../../shared/traffic.js';
import { IdMap } from '../tunnel/id-map.js';

const historySeconds = 300;

interface Bucket {
  requests: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  /** Durations of the requests that ended, ms. */
  durations: number[];
}

interface OpenRequest {
  tunnel: string;
  protocol: TrafficProtocol;
  /** A gRPC status other than OK came in its headers or trailers. */
  grpcFailed: boolean;
}

const emptyBucket = (): Bucket => ({ requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, durations: [] });

export class ThroughputStats {
  private current = emptyBucket();
  private readonly currentPerTunnel = new Map<string, Bucket>();
  private readonly openByTunnel = new Map<string, number>();
  private readonly open = new IdMap<OpenRequest>();
  private readonly history: ThroughputPoint[] = [];
  private readonly historyPerTunnel = new Map<string, ThroughputPoint[]>();

  record(event: TrafficEvent): void {
    if (event.kind === 'request-start') {
      this.open.set(event.requestId, { tunnel: event.tunnel, protocol: event.protocol, grpcFailed: false });
      this.openByTunnel.set(event.tunnel, (this.openByTunnel.get(event.tunnel) ?? 0) + 1);
      this.current.requests++;
      this.bucketFor(event.tunnel).requests++;
      return;
    }
    const request = this.open.get(event.requestId);
    if (request === undefined) return;
    const { tunnel } = request;
    switch (event.kind) {
      case 'body':
      case 'ws-frame':
      case 'grpc-message': {
        // A gRPC body comes as its messages, counted as on the wire.
        const size = event.kind === 'body' ? event.data.length : event.kind === 'grpc-message' ? grpcMessageWireBytes(event.size) : event.size;
        addFlowBytes(this.current, event.direction, size);
        addFlowBytes(this.bucketFor(tunnel), event.direction, size);
        return;
      }
      case 'response-head':
      case 'trailers':
        // A response's trailers carry its gRPC status, as its head may; a request's none.
        if (event.kind === 'trailers' && event.direction === 'to-service') return;
        if (request.protocol === 'grpc' && (grpcStatusIn(event.headers) ?? 0) !== 0) request.grpcFailed = true;
        return;
      case 'request-end':
      case 'request-error': {
        this.open.delete(event.requestId);
        this.openByTunnel.set(tunnel, Math.max(0, (this.openByTunnel.get(tunnel) ?? 1) - 1));
        const failed = event.kind === 'request-error' || event.status >= 500 || request.grpcFailed;
        // A WebSocket's duration is how long it stayed open, not how fast it was answered.
        const durationMs = request.protocol === 'websocket' ? undefined : event.durationMs;
        addEnded(this.current, failed, durationMs);
        addEnded(this.bucketFor(tunnel), failed, durationMs);
        return;
      }
      default:
        // gRPC bytes are counted as body events; the rest carry no volume.
        return;
    }
  }

  /** Closes the current one-second bucket (call once a second); returns its points. */
  tick(at: number): ThroughputPoint & { perTunnel: Record<string, ThroughputPoint> } {
    const total = pointOf(at, this.current, this.open.size);
    push(this.history, total);
    const perTunnel: Record<string, ThroughputPoint> = {};
    const tunnels = new Set([...this.currentPerTunnel.keys(), ...this.openByTunnel.keys()]);
    for (const tunnel of tunnels) {
      const point = pointOf(at, this.currentPerTunnel.get(tunnel) ?? emptyBucket(), this.openByTunnel.get(tunnel) ?? 0);
      perTunnel[tunnel] = point;
      let series = this.historyPerTunnel.get(tunnel);
      if (series === undefined) this.historyPerTunnel.set(tunnel, (series = []));
      push(series, point);
      if (point.openStreams === 0) this.openByTunnel.delete(tunnel);
    }
    this.current = emptyBucket();
    this.currentPerTunnel.clear();
    return Object.assign({}, total, { perTunnel });
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

function addEnded(bucket: Bucket, failed: boolean, durationMs: number | undefined): void {
  if (failed) bucket.errors++;
  if (durationMs !== undefined) bucket.durations.push(durationMs);
}

function pointOf(at: number, { durations, ...counts }: Bucket, openStreams: number): ThroughputPoint {
  return { at, ...counts, openStreams, ...(durations.length > 0 && { latencyMs: percentiles(durations) }) };
}

/** Nearest-rank percentiles. */
function percentiles(durations: number[]): { p50: number; p95: number; p99: number } {
  const sorted = durations.sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95), p99: rank(99) };
}

function push(series: ThroughputPoint[], point: ThroughputPoint): void {
  series.push(point);
  if (series.length > historySeconds) series.shift();
}
