// Request metrics, the same on the edge and on the agent: counters by tunnel,
// protocol and status class, bytes each way, a latency histogram, and
// running totals per tunnel for /api/tunnels.
import { Counter, Histogram, type Registry } from 'prom-client';
import { grpcStatusName } from '../../shared/grpc-status.js';
import type { EndedRequest } from '../service/ended-requests.js';

export interface TunnelCounters {
  requests: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
}

/** Tunnel label values kept apart; more than this (random names come and go) are counted as "_other". */
const maxTunnelSeries = 1000;

/** Seconds: from a fast local answer to a long WebSocket session. */
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class RequestMetrics {
  private readonly requests: Counter<'tunnel' | 'protocol' | 'status_class'>;
  private readonly grpcCalls: Counter<'tunnel' | 'grpc_status'>;
  private readonly bytes: Counter<'tunnel' | 'direction'>;
  private readonly duration: Histogram<'tunnel' | 'protocol'>;
  private readonly perTunnel = new Map<string, TunnelCounters>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'burrow_requests_total',
      help: 'Public requests ended, by tunnel, protocol and HTTP status class ("none": the client went away before an answer)',
      labelNames: ['tunnel', 'protocol', 'status_class'],
      registers,
    });
    this.grpcCalls = new Counter({ name: 'burrow_grpc_calls_total', help: 'gRPC calls ended, by tunnel and the gRPC status the caller got', labelNames: ['tunnel', 'grpc_status'], registers });
    this.bytes = new Counter({
      name: 'burrow_request_bytes_total',
      help: 'Body and message bytes of ended requests: "in" from public clients toward services, "out" back',
      labelNames: ['tunnel', 'direction'],
      registers,
    });
    this.duration = new Histogram({
      name: 'burrow_request_duration_seconds',
      help: 'From a request arriving to its end (for WebSocket: the whole session)',
      labelNames: ['tunnel', 'protocol'],
      buckets: durationBuckets,
      registers,
    });
  }

  observe(request: EndedRequest): void {
    const tunnel = this.tunnelLabel(request.tunnel);
    this.requests.inc({ tunnel, protocol: request.protocol, status_class: statusClass(request.status) });
    if (request.grpcStatus !== undefined) this.grpcCalls.inc({ tunnel, grpc_status: grpcStatusName(request.grpcStatus) });
    this.bytes.inc({ tunnel, direction: 'in' }, request.bytesIn);
    this.bytes.inc({ tunnel, direction: 'out' }, request.bytesOut);
    this.duration.observe({ tunnel, protocol: request.protocol }, request.durationMs / 1000);
    const counters = this.perTunnel.get(tunnel) ?? { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0 };
    counters.requests++;
    if (request.errorCode !== undefined || request.status >= 500) counters.errors++;
    counters.bytesIn += request.bytesIn;
    counters.bytesOut += request.bytesOut;
    this.perTunnel.set(tunnel, counters);
  }

  countersOf(tunnel: string): TunnelCounters {
    return { ...(this.perTunnel.get(tunnel) ?? { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0 }) };
  }

  private tunnelLabel(tunnel: string): string {
    if (tunnel === '') return '_none';
    return this.perTunnel.has(tunnel) || this.perTunnel.size < maxTunnelSeries ? tunnel : '_other';
  }
}

function statusClass(status: number): string {
  return status === 0 ? 'none' : `${Math.floor(status / 100)}xx`;
}
